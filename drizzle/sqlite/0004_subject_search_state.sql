CREATE TABLE `subject_search_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`indexed_through_id` integer NOT NULL
);
