-- The two schemas on the one MySQL (spec 2.1): mindfulness for prod, mindfulness_dev for dev.
CREATE DATABASE IF NOT EXISTS `mindfulness_dev` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `mindfulness` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
