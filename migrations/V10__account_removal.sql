-- An account an admin deleted: its personal data is erased (name and
-- address replaced, password unusable, its own rows elsewhere removed;
-- services::accounts::delete_account). The row stays so that sessions,
-- payments, invoices and the audit trail that name its id keep a valid
-- reference. Deleted accounts are also disabled.
ALTER TABLE users ADD COLUMN deleted_at TEXT;
