-- Roles created from a role template (IAM AcquireRole): the template version, and the
-- replacement values as given (a canonical text of oxiam-core's), so that asking again with the
-- same values finds the role and other values are told apart. NULL for every other role.

ALTER TABLE roles ADD COLUMN source_template_arn TEXT;
ALTER TABLE roles ADD COLUMN source_template_minor BIGINT;
ALTER TABLE roles ADD COLUMN source_template_values TEXT;
