CREATE TABLE leads (id bigserial PRIMARY KEY, user_email text, name text);
