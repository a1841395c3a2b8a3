CREATE TABLE `retention_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`pruned_through_seq` integer NOT NULL,
	`pruned_messages` integer NOT NULL,
	`last_pruned_at` integer
);
