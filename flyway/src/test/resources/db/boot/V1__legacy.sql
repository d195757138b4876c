CREATE TABLE leads (id bigint PRIMARY KEY, user_email text, name text);
