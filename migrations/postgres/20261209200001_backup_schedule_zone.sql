-- The time zone of an add-on's daily backup schedule (`pg:backups:schedule --at
-- '02:00 Europe/Paris'`): an IANA name, or NULL for UTC.
-- Keep in step with ../sqlite/20261209200001_backup_schedule_zone.sql.

ALTER TABLE addons ADD COLUMN schedule_zone TEXT;
