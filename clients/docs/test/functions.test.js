// SPDX-License-Identifier: AGPL-3.0-or-later
// The spreadsheet functions of src/sheet/functions.js against the values in Excel's
// documentation examples. Run: node --test test/ (in clients/docs; no packages needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { FUNCTIONS as F, serial, yearFrac } from "../src/sheet/functions.js";

const D = (text) => serial(text);
function near(actual, expected, digits) {
  assert.equal(typeof actual, "number", `got ${actual}`);
  assert.ok(Math.abs(actual - expected) < 10 ** -digits, `${actual} is not ${expected}`);
}
const isError = (value, code) => assert.ok(value instanceof Error && value.message === code, `${value} is not ${code}`);

test("PRICE, YIELD", () => {
  near(F.PRICE(D("2008-2-15"), D("2017-11-15"), 0.0575, 0.065, 100, 2, 0), 94.6343616, 6);
  near(F.PRICE("2008-2-15", "2017-11-15", 0.0575, 0.065, 100, 2), 94.6343616, 6);
  near(F.YIELD(D("2008-2-15"), D("2016-11-15"), 0.0575, 95.04287, 100, 2, 0), 0.065, 6);
  // One coupon left: the closed formula; YIELD undoes PRICE for every basis.
  for (const basis of [0, 1, 2, 3, 4]) {
    for (const maturity of ["2008-5-15", "2017-11-15"]) {
      const p = F.PRICE(D("2008-2-15"), D(maturity), 0.0575, 0.065, 100, 2, basis);
      near(F.YIELD(D("2008-2-15"), D(maturity), 0.0575, p, 100, 2, basis), 0.065, 9);
    }
  }
  isError(F.PRICE(D("2017-11-15"), D("2008-2-15"), 0.0575, 0.065, 100, 2, 0), "#NUM!");
  isError(F.PRICE(D("2008-2-15"), D("2017-11-15"), 0.0575, 0.065, 100, 3, 0), "#NUM!");
  isError(F.PRICE(D("2008-2-15"), D("2017-11-15"), 0.0575, 0.065, 100, 2, 5), "#NUM!");
  isError(F.PRICE("not a date", D("2017-11-15"), 0.0575, 0.065, 100, 2, 0), "#VALUE!");
});

test("DURATION, MDURATION", () => {
  near(F.DURATION(D("2018-7-1"), D("2048-1-1"), 0.08, 0.09, 2, 1), 10.9191453, 6);
  near(F.MDURATION(D("2008-1-1"), D("2016-1-1"), 0.08, 0.09, 2, 1), 5.73567, 5);
});

test("the coupon functions", () => {
  const args = [D("2011-1-25"), D("2011-11-15"), 2, 1];
  assert.equal(F.COUPDAYBS(...args), 71);
  assert.equal(F.COUPDAYS(...args), 181);
  assert.equal(F.COUPDAYSNC(...args), 110);
  assert.equal(F.COUPNCD(...args), D("2011-5-15"));
  assert.equal(F.COUPPCD(...args), D("2010-11-15"));
  assert.equal(F.COUPNUM(D("2007-1-25"), D("2008-11-15"), 2, 1), 4);
  // 30/360 and the end of a month kept.
  assert.equal(F.COUPDAYS(D("2011-1-25"), D("2011-11-15"), 2, 0), 180);
  assert.equal(F.COUPNCD(D("2011-1-25"), D("2011-11-30"), 4, 0), D("2011-2-28"));
});

test("interest and discount securities", () => {
  near(F.ACCRINT(D("2008-3-1"), D("2008-8-31"), D("2008-5-1"), 0.1, 1000, 2, 0), 16.666667, 6);
  near(F.ACCRINT(D("2008-3-1"), D("2008-8-31"), D("2008-5-1"), 0.1, 1000, 2, 0, false), 16.666667, 6);
  near(F.ACCRINT(D("2008-3-1"), D("2008-3-31"), D("2008-5-1"), 0.1, 1000, 2, 0, false), 8.611111, 6);
  near(F.ACCRINTM(D("2008-4-1"), D("2008-6-15"), 0.1, 1000, 3), 20.54794521, 8);
  near(F.INTRATE(D("2008-2-15"), D("2008-5-15"), 1000000, 1014420, 2), 0.05768, 5);
  near(F.RECEIVED(D("2008-2-15"), D("2008-5-15"), 1000000, 0.0575, 2), 1014584.654, 3);
  near(F.PRICEMAT(D("2008-2-15"), D("2008-4-13"), D("2007-11-11"), 0.061, 0.061, 0), 99.98449888, 8);
  near(F.YIELDMAT(D("2008-3-15"), D("2008-11-3"), D("2007-11-8"), 0.0625, 100.0123, 0), 0.060954, 6);
  near(F.YIELDDISC(D("2008-2-16"), D("2008-3-1"), 99.795, 100, 2), 0.052823, 6);
  assert.equal(F.TBILLPRICE(D("2008-3-31"), D("2008-6-1"), 0.09), 98.45);
  near(F.TBILLYIELD(D("2008-3-31"), D("2008-6-1"), 98.45), 0.0914, 4);
  near(F.TBILLEQ(D("2008-3-31"), D("2008-6-1"), 0.0914), 0.094151, 6);
  isError(F.TBILLPRICE(D("2008-3-31"), D("2009-6-1"), 0.09), "#NUM!");
});

test("AMORLINC", () => {
  assert.equal(F.AMORLINC(2400, D("2008-8-19"), D("2008-12-31"), 300, 1, 0.15, 1), 360);
  // The periods add up to cost - salvage.
  let total = 0;
  for (let period = 0; period < 10; period++) {
    total += F.AMORLINC(2400, D("2008-8-19"), D("2008-12-31"), 300, period, 0.15, 1);
  }
  near(total, 2100, 9);
  isError(F.AMORLINC(2400, D("2008-8-19"), D("2008-12-31"), 300, 1, 0.15, 2), "#NUM!");
});

test("AMORDEGRC, VDB", () => {
  assert.equal(F.AMORDEGRC(2400, D("2008-8-19"), D("2008-12-31"), 300, 1, 0.15, 1), 776);
  assert.equal(F.AMORDEGRC(2400, D("2008-8-19"), D("2008-12-31"), 300, 0, 0.15, 1), 330);
  isError(F.AMORDEGRC(2400, D("2008-8-19"), D("2008-12-31"), 300, 1, 0.15, 2), "#NUM!");
  near(F.VDB(2400, 300, 10 * 365, 0, 1), 1.32, 2);
  near(F.VDB(2400, 300, 10 * 12, 0, 1), 40, 2);
  near(F.VDB(2400, 300, 10, 0, 1), 480, 2);
  near(F.VDB(2400, 300, 10 * 12, 6, 18), 396.31, 2);
  near(F.VDB(2400, 300, 10 * 12, 6, 18, 1.5), 311.81, 2);
  near(F.VDB(2400, 300, 10, 0, 0.875, 1.5), 315, 2);
  // The whole life depreciates cost - salvage (switching to the straight line).
  near(F.VDB(2400, 300, 10, 0, 10), 2100, 9);
  isError(F.VDB(2400, 300, 10, 5, 4), "#NUM!");
});

test("YEARFRAC's bases", () => {
  near(yearFrac(D("2012-1-1"), D("2012-7-30"), 0), 0.58055556, 8);
  near(yearFrac(D("2012-1-1"), D("2012-7-30"), 1), 0.57650273, 8);
  near(yearFrac(D("2012-1-1"), D("2012-7-30"), 3), 0.57808219, 8);
});

test("MDETERM", () => {
  near(F.MDETERM([[1, 3, 8, 5], [1, 3, 6, 1], [1, 1, 1, 0], [7, 3, 10, 2]]), 88, 9);
  near(F.MDETERM([[3, 6, 1], [1, 1, 0], [3, 10, 2]]), 1, 9);
  assert.equal(F.MDETERM([[1, 2], [2, 4]]), 0);
  assert.equal(F.MDETERM(5), 5);
  isError(F.MDETERM([[1, 2, 3], [4, 5, 6]]), "#VALUE!");
  isError(F.MDETERM([[1, "a"], [1, 2]]), "#VALUE!");
});

test("T.TEST, SKEW.P", () => {
  const a = [[3], [4], [5], [8], [9], [1], [2], [4], [5]];
  const b = [[6], [19], [3], [2], [14], [4], [5], [17], [1]];
  near(F["T.TEST"](a, b, 2, 1), 0.196016, 6);
  // Equal variances; unequal ones (Welch: the same t for samples of one size, fewer
  // degrees of freedom, so a larger p); one tail is half of two.
  near(F["T.TEST"](a, b, 2, 2), 0.191995, 6);
  const welch = F["T.TEST"](a, b, 2, 3);
  assert.ok(welch > F["T.TEST"](a, b, 2, 2) && welch < 0.5, `${welch}`);
  near(F["T.TEST"](a, b, 1, 3) * 2, welch, 12);
  isError(F["T.TEST"](a, b, 3, 1), "#NUM!");
  near(F["SKEW.P"]([[3, 4, 5, 2, 3, 4, 5, 6, 4, 7]]), 0.303193, 6);
});
