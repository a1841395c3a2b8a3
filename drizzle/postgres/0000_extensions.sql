-- Substring search on subjects (MessageFilter.subjectContains) through a trigram index. pg_trgm
-- ships with PostgreSQL and is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
