-- a legacy INSERT run by Flyway through Bellows in expand, after V2 added the new column in the same process
INSERT INTO leads (id, user_email, name) VALUES (1, 'a@x.org', 'a');
