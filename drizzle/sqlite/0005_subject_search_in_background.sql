-- Indexing a subject in the trigram index costs about as much as storing the message itself,
-- so it leaves the insert: a background job indexes new messages in batches and records how far
-- it got in subject_search_state; searches read newer messages directly. Everything stored so
-- far was indexed by the insert trigger.
DROP TRIGGER `messages_subject_search_insert`;
--> statement-breakpoint
INSERT INTO `subject_search_state`(id, indexed_through_id) SELECT 1, coalesce(max(id), 0) FROM `messages`;
--> statement-breakpoint
DROP TRIGGER `messages_subject_search_delete`;
--> statement-breakpoint
-- Only rows that are in the index may be deleted from it (FTS5 external content trusts the caller).
CREATE TRIGGER `messages_subject_search_delete` AFTER DELETE ON `messages`
WHEN old.id <= (SELECT indexed_through_id FROM `subject_search_state` WHERE id = 1) BEGIN
  INSERT INTO `messages_subject_search`(`messages_subject_search`, rowid, subject) VALUES ('delete', old.id, old.subject);
END;
--> statement-breakpoint
DROP TRIGGER `messages_subject_search_update`;
--> statement-breakpoint
CREATE TRIGGER `messages_subject_search_update` AFTER UPDATE OF subject ON `messages`
WHEN old.id <= (SELECT indexed_through_id FROM `subject_search_state` WHERE id = 1) BEGIN
  INSERT INTO `messages_subject_search`(`messages_subject_search`, rowid, subject) VALUES ('delete', old.id, old.subject);
  INSERT INTO `messages_subject_search`(rowid, subject) VALUES (new.id, new.subject);
END;
