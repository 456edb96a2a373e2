-- 保存到通讯录: the groups an officer saved to their contacts.
CREATE TABLE jwwx_groups_saved (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id)
);
