ALTER TABLE leads ADD COLUMN contact_email text;
