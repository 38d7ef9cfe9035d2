-- Retention: a mail whose content was removed after `[retention]
-- mail_bodies_days` keeps its row (recipient, template, status, times) and
-- says when its content went; partial indexes let the retention scans read
-- only what may still go.

ALTER TABLE mail_outbox ADD COLUMN content_removed_at TEXT;
CREATE INDEX mail_outbox_content_kept ON mail_outbox (created_at)
    WHERE content_removed_at IS NULL;

CREATE INDEX collection_steps_detail ON collection_steps (updated_at)
    WHERE detail IS NOT NULL;

CREATE INDEX used_tokens_used ON used_tokens (used_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
