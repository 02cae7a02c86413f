-- Up Migration
-- The history of pc-invitations (docs/history.md): every outcome event and notice, once per event id,
-- each row chained by SHA-256 to the one before. Rows are written by src/history/append.ts only,
-- one writer at a time (the transaction-scoped advisory lock HISTORY_LOCK_KEY, shared with
-- history_retain below), so seq is gapless and each row's prev_hash is the hash of seq - 1 (or of the
-- anchor, for the first row kept by retention).

CREATE TABLE history_event (
  seq            bigint      PRIMARY KEY CHECK (seq > 0),
  event_id       text        NOT NULL UNIQUE,
  type           text        NOT NULL,
  request_id     text,
  catalog        text,
  identifier     text,
  partner        text,
  connection_id  text,
  action         text,
  decided_by     text,
  policy_rule    integer,
  policy_hash    text,
  aws_request_id text,
  occurred_at    timestamptz NOT NULL,
  recorded_at    timestamptz NOT NULL,
  -- The event as delivered (JSON text, byte for byte what the hash covers).
  body           text        NOT NULL,
  prev_hash      text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash           text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX history_event_identifier ON history_event (catalog, identifier, seq);
CREATE INDEX history_event_partner ON history_event (partner, seq);
CREATE INDEX history_event_request ON history_event (request_id);
CREATE INDEX history_event_connection ON history_event (connection_id) WHERE connection_id IS NOT NULL;
CREATE INDEX history_event_recorded ON history_event (recorded_at);

-- What the first kept row chains to once retention removed older rows: the seq and hash of the last
-- removed row. One row at most (id 1); no row = nothing removed yet (the chain starts at seq 1 from
-- the zero hash).
CREATE TABLE history_anchor (
  id         smallint    PRIMARY KEY CHECK (id = 1),
  seq        bigint      NOT NULL CHECK (seq > 0),
  hash       text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  removed    bigint      NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Append-only: no UPDATE, no TRUNCATE; a DELETE only of rows at or before the anchor, which only
-- moves forward and only to the hash of a row that exists (history_retain moves it, then deletes).
-- A superuser can still switch triggers off (session_replication_role = replica): that is what
-- `pc-invitations history verify` is for.
CREATE FUNCTION history_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.seq <= coalesce((SELECT seq FROM history_anchor WHERE id = 1), 0) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'history_event is append-only: % refused (rows leave only through history_retain)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER history_event_append_only BEFORE UPDATE OR DELETE ON history_event
  FOR EACH ROW EXECUTE FUNCTION history_event_guard();

CREATE FUNCTION history_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER history_event_no_truncate BEFORE TRUNCATE ON history_event
  FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_truncate();
CREATE TRIGGER history_anchor_no_truncate BEFORE TRUNCATE ON history_anchor
  FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_truncate();

CREATE FUNCTION history_anchor_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'history_anchor cannot be deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash THEN
    RETURN NEW; -- the count of removed rows, the time
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.seq < OLD.seq THEN
    RAISE EXCEPTION 'history_anchor only moves forward (% < %)', NEW.seq, OLD.seq USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM history_event WHERE seq = NEW.seq AND hash = NEW.hash) THEN
    RAISE EXCEPTION 'history_anchor must name a row of history_event and its hash (seq %)', NEW.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER history_anchor_forward_only BEFORE INSERT OR UPDATE OR DELETE ON history_anchor
  FOR EACH ROW EXECUTE FUNCTION history_anchor_guard();

-- Retention: removes every row recorded before `cutoff` that has no younger row before it (a prefix of
-- the chain, so what is kept stays one chain), after moving the anchor to the last removed row.
-- Returns how many rows it removed. Takes the writers' advisory lock (key given by the caller,
-- HISTORY_LOCK_KEY) so no append reads the tip while the prefix goes.
CREATE FUNCTION history_retain(cutoff timestamptz, lock_key bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
  n bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT coalesce(min(seq), (SELECT max(seq) + 1 FROM history_event)) - 1 INTO last_seq
    FROM history_event WHERE recorded_at >= cutoff;
  IF last_seq IS NULL OR last_seq < 1 THEN
    RETURN 0;
  END IF;
  SELECT hash INTO last_hash FROM history_event WHERE seq = last_seq;
  IF last_hash IS NULL THEN
    RETURN 0; -- already removed: the anchor is at or past it
  END IF;
  INSERT INTO history_anchor (id, seq, hash, removed, updated_at) VALUES (1, last_seq, last_hash, 0, now())
    ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at;
  DELETE FROM history_event WHERE seq <= last_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE history_anchor SET removed = removed + n WHERE id = 1;
  RETURN n;
END $$;

-- Down Migration
DROP FUNCTION history_retain(timestamptz, bigint);
DROP TABLE history_anchor;
DROP TABLE history_event;
DROP FUNCTION history_anchor_guard();
DROP FUNCTION history_refuse_truncate();
DROP FUNCTION history_event_guard();
