-- When the password was last entered on a log-in session: at log-in, or
-- again through `POST /api/v1/auth/reauth` (or the admin pages' prompt).
-- `[security] admin_require_reauth_minutes` compares it with the clock
-- before refunds, erasures, role changes and key operations. Sessions
-- opened before this migration count from their log-in.
ALTER TABLE auth_sessions ADD COLUMN password_entered_at TEXT;
UPDATE auth_sessions SET password_entered_at = created_at;
