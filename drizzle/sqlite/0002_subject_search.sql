-- Substring search on subjects (MessageFilter.subjectContains) without reading every message:
-- an FTS5 trigram index over messages.subject, kept current by triggers. External content, so
-- the subjects are not stored twice.
CREATE VIRTUAL TABLE `messages_subject_search` USING fts5(subject, content='messages', content_rowid='id', tokenize='trigram');
--> statement-breakpoint
INSERT INTO `messages_subject_search`(rowid, subject) SELECT id, subject FROM `messages`;
--> statement-breakpoint
CREATE TRIGGER `messages_subject_search_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO `messages_subject_search`(rowid, subject) VALUES (new.id, new.subject);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_subject_search_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO `messages_subject_search`(`messages_subject_search`, rowid, subject) VALUES ('delete', old.id, old.subject);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_subject_search_update` AFTER UPDATE OF subject ON `messages` BEGIN
  INSERT INTO `messages_subject_search`(`messages_subject_search`, rowid, subject) VALUES ('delete', old.id, old.subject);
  INSERT INTO `messages_subject_search`(rowid, subject) VALUES (new.id, new.subject);
END;
