-- Every room a file (mxc URI) was sent in, not only the first (issue 15): the
-- watermarked media path serves a file to its uploader and to members of these rooms.
CREATE TABLE jwwx_watermark_media_rooms (
    media_uri TEXT NOT NULL,
    room_id TEXT NOT NULL,
    first_ts BIGINT NOT NULL,
    PRIMARY KEY (media_uri, room_id)
);
INSERT INTO jwwx_watermark_media_rooms (media_uri, room_id, first_ts)
    SELECT media_uri, room_id, first_ts FROM jwwx_watermark_media_origin;
