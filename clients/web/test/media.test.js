// SPDX-License-Identifier: AGPL-3.0-or-later
// Voice and location messages as the client builds and reads them (src/rules.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { coordsText, locationContent, parseGeoUri, voiceContent, voiceSeconds } from "../src/rules.js";

test("a voice message's length in seconds, and what a recording is sent as", () => {
  assert.equal(voiceSeconds({ info: { duration: 2400 } }), 2);
  assert.equal(voiceSeconds({ "org.matrix.msc1767.audio": { duration: 300 } }), 1);
  assert.equal(voiceSeconds({ info: {} }), null);
  const sent = voiceContent("mxc://s/a", { mimetype: "audio/webm", size: 10, duration: 3000 });
  assert.equal(sent.msgtype, "m.audio");
  assert.deepEqual(sent["org.matrix.msc3245.voice"], {});
  assert.equal(sent.info.duration, 3000);
});

test("locations: geo URIs read and written, coordinates in Chinese", () => {
  assert.deepEqual(parseGeoUri("geo:31.2304,121.4737;u=35"), { lat: 31.2304, lon: 121.4737 });
  assert.equal(parseGeoUri("geo:91,0"), null);
  assert.equal(parseGeoUri("http://x"), null);
  assert.equal(coordsText({ lat: -33.5, lon: -70.25 }), "南纬33.5000° 西经70.2500°");
  const sent = locationContent("31.2304", "121.4737", " 人民广场岗亭 ");
  assert.equal(sent.geo_uri, "geo:31.2304,121.4737");
  assert.equal(sent.info.description, "人民广场岗亭");
  assert.equal(sent["org.matrix.msc3488.location"].uri, "geo:31.2304,121.4737");
  assert.equal(locationContent("", "121", ""), null);
  assert.equal(locationContent("abc", "121", ""), null);
  assert.equal(locationContent("95", "121", ""), null);
});
