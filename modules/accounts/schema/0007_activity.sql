-- Who used the server on which day (运营统计: active members per day/week/month): one row
-- per account and local calendar day, written in batches by activity.py.
CREATE TABLE jwwx_acc_activity (
    day TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (day, user_id)
);
