-- bridges.mail: what the officer chose his reminders to show ("subject" or "count");
-- NULL: the bridge's `reminder` setting.
ALTER TABLE mail_accounts ADD COLUMN reminder TEXT;
