-- Per-environment settings: the stack the next build runs on (existing environments keep the
-- stack every build used before stacks were per environment, debian-12; new environments get
-- the installation's default, set by the control plane) and maintenance mode (the router
-- answers 503 H80 while the dynos keep running).
-- Keep in step with ../postgres/20261208200001_environment_settings.sql.

ALTER TABLE environments ADD COLUMN build_stack TEXT NOT NULL DEFAULT 'debian-12';
ALTER TABLE environments ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0;
