-- One database user per env, granted on its own schema only (migrations included).
-- The passwords are placeholders filled at deploy/test time, e.g. `envsubst < 10-create-app-users.sql`.
CREATE USER IF NOT EXISTS 'dev_app'@'%' IDENTIFIED BY '${MYSQL_DEV_PASSWORD}';
GRANT ALL PRIVILEGES ON `mindfulness_dev`.* TO 'dev_app'@'%';
CREATE USER IF NOT EXISTS 'prod_app'@'%' IDENTIFIED BY '${MYSQL_PROD_PASSWORD}';
GRANT ALL PRIVILEGES ON `mindfulness`.* TO 'prod_app'@'%';
