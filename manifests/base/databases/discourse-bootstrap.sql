-- Discourse database bootstrap: extensions and the CJK full-text search configuration.
-- One file, two readers: the CloudNativePG Cluster runs it in the `discourse` database after initdb
-- (bootstrap.initdb.postInitApplicationSQLRefs -> ConfigMap discourse-bootstrap-sql), and the harness's
-- local target applies the same text, statement by statement, to its local PostgreSQL. Keep it idempotent.

CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- pgvector only where the image ships it (Discourse AI features use it; search does not).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    CREATE EXTENSION IF NOT EXISTS vector;
  END IF;
END
$$;

-- huangjimmy/pg_cjk_parser: the default parser, but CJK text becomes overlapping 2-grams (token type cjk).
CREATE EXTENSION IF NOT EXISTS pg_cjk_parser;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace
                 WHERE n.nspname = 'public' AND p.prsname = 'pg_cjk_parser') THEN
    CREATE TEXT SEARCH PARSER public.pg_cjk_parser (
      START = public.prsd2_cjk_start,
      GETTOKEN = public.prsd2_cjk_nexttoken,
      END = public.prsd2_cjk_end,
      LEXTYPES = public.prsd2_cjk_lextype,
      HEADLINE = public.prsd2_cjk_headline);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'public' AND c.cfgname = 'config_2_gram_cjk') THEN
    CREATE TEXT SEARCH CONFIGURATION public.config_2_gram_cjk (PARSER = public.pg_cjk_parser);
    ALTER TEXT SEARCH CONFIGURATION public.config_2_gram_cjk
      ADD MAPPING FOR cjk, asciihword, email, entity, file, float, host, hword, hword_asciipart,
                      hword_numpart, hword_part, int, numhword, numword, protocol, sfloat, tag, uint,
                      url, url_path, version, word
      WITH simple;
    ALTER TEXT SEARCH CONFIGURATION public.config_2_gram_cjk
      ADD MAPPING FOR asciiword WITH english_stem;
  END IF;
END
$$;

-- The database this runs in (CNPG: spec.bootstrap.initdb.database, which must be discourse) searches with it.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET default_text_search_config = %L',
                 current_database(), 'public.config_2_gram_cjk');
END
$$;
