-- Price alerts (issue 22) are a notification category members choose channels for: the preferences
-- table's category check did not admit it, so saving a choice for it failed.
ALTER TABLE notification_preferences DROP CONSTRAINT notification_preferences_category_check;
ALTER TABLE notification_preferences ADD CONSTRAINT notification_preferences_category_check
    CHECK (category IN ('remittances', 'deposits', 'large_transactions', 'tontines', 'loans', 'price_alerts'));
