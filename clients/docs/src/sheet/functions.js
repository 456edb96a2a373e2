// SPDX-License-Identifier: AGPL-3.0-or-later
// Spreadsheet functions that neither fast-formula-parser nor formulajs has, or that
// formulajs computes wrongly (checked against Excel's documentation examples): the
// bond functions (PRICE, YIELD, DURATION, MDURATION, the COUP* family, ACCRINT,
// ACCRINTM, PRICEMAT, YIELDMAT, YIELDDISC, INTRATE, RECEIVED, the T-bill functions),
// AMORLINC, AMORDEGRC, VDB, MDETERM, T.TEST and SKEW.P. Written from Excel's documented
// definitions. Arguments and results are plain values, as for formulajs: dates are
// Excel serial numbers (or date text "2008-2-15"), a range is an array of rows; an Excel
// error is returned as an Error whose message is its code. engine.js registers them
// with the parser.

const NUM = () => new Error("#NUM!");
const VALUE = () => new Error("#VALUE!");
const DIV0 = () => new Error("#DIV/0!");
const EPOCH = Date.UTC(1899, 11, 30);
const DAY = 86400000;

class Failure {
  constructor(error) {
    this.error = error;
  }
}
const fail = (error) => {
  throw new Failure(error);
};

// An Excel function from a body that may fail(): the failure is its result.
function excel(body) {
  return (...args) => {
    try {
      const result = body(...args);
      if (typeof result === "number" && !Number.isFinite(result)) return NUM();
      return result;
    } catch (e) {
      if (e instanceof Failure) return e.error;
      throw e;
    }
  };
}

function number(value, fallback) {
  if (value === undefined || value === null || value === "") {
    if (fallback === undefined) fail(VALUE());
    return fallback;
  }
  if (value instanceof Error) fail(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) fail(VALUE());
  return n;
}

/** A date argument as a whole serial number (date text "2008-2-15" accepted). */
export function serial(value) {
  if (value instanceof Error) fail(value);
  if (typeof value === "string") {
    const m = /^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})\s*$/.exec(value);
    if (!m) fail(VALUE());
    return (Date.UTC(+m[1], +m[2] - 1, +m[3]) - EPOCH) / DAY;
  }
  const n = Math.floor(number(value));
  if (n < 0) fail(NUM());
  return n;
}

function ymd(s) {
  const d = new Date(EPOCH + s * DAY);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}
const toSerial = (y, m, d) => (Date.UTC(y, m - 1, d) - EPOCH) / DAY;
const daysInMonth = (y, m) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function basisOf(value) {
  const b = Math.floor(number(value, 0));
  if (b < 0 || b > 4) fail(NUM());
  return b;
}

function frequencyOf(value) {
  const f = Math.floor(number(value));
  if (f !== 1 && f !== 2 && f !== 4) fail(NUM());
  return f;
}

// 30/360: US (NASD) for basis 0, European for basis 4.
function days360(a, b, european) {
  const s = ymd(a);
  const e = ymd(b);
  let d1 = s.d;
  let d2 = e.d;
  if (european) {
    if (d1 === 31) d1 = 30;
    if (d2 === 31) d2 = 30;
  } else {
    const lastOfFeb = (p) => p.m === 2 && p.d === daysInMonth(p.y, 2);
    if (lastOfFeb(s) && lastOfFeb(e)) d2 = 30;
    if (lastOfFeb(s)) d1 = 30;
    if (d2 === 31 && d1 >= 30) d2 = 30;
    if (d1 === 31) d1 = 30;
  }
  return (e.y - s.y) * 360 + (e.m - s.m) * 30 + (d2 - d1);
}

/** Days from a to b under a day-count basis (0 and 4: 30/360, else actual). */
export function dayCount(a, b, basis) {
  if (basis === 0) return days360(a, b, false);
  if (basis === 4) return days360(a, b, true);
  return b - a;
}

/** YEARFRAC(a, b, basis) as Excel computes it, for a <= b. */
export function yearFrac(a, b, basis) {
  if (a > b) return yearFrac(b, a, basis);
  if (basis === 0 || basis === 4) return dayCount(a, b, basis) / 360;
  if (basis === 2) return (b - a) / 360;
  if (basis === 3) return (b - a) / 365;
  const s = ymd(a);
  const e = ymd(b);
  const withinYear = e.y === s.y
    || (e.y === s.y + 1 && (e.m < s.m || (e.m === s.m && e.d <= s.d)));
  if (withinYear) {
    let length = 365;
    if (e.y === s.y) {
      if (isLeap(s.y)) length = 366;
    } else {
      const feb29 = (y) => isLeap(y) && a <= toSerial(y, 2, 29) && toSerial(y, 2, 29) <= b;
      if (feb29(s.y) || feb29(e.y)) length = 366;
    }
    return (b - a) / length;
  }
  const years = e.y - s.y + 1;
  const days = toSerial(e.y + 1, 1, 1) - toSerial(s.y, 1, 1);
  return (b - a) / (days / years);
}

// The coupon date `periods` coupons before maturity (end of month kept).
function couponBefore(maturity, periods, frequency) {
  const m = ymd(maturity);
  const endOfMonth = m.d === daysInMonth(m.y, m.m);
  const months = m.y * 12 + (m.m - 1) - periods * (12 / frequency);
  const y = Math.floor(months / 12);
  const mo = (months % 12) + 1;
  const dim = daysInMonth(y, mo);
  return toSerial(y, mo, endOfMonth ? dim : Math.min(m.d, dim));
}

// The coupon period holding the settlement: {pcd, ncd, n} (n coupons still to pay).
function coupons(settlement, maturity, frequency) {
  if (settlement >= maturity) fail(NUM());
  let n = 1;
  while (couponBefore(maturity, n, frequency) > settlement) n++;
  return { pcd: couponBefore(maturity, n, frequency), ncd: couponBefore(maturity, n - 1, frequency), n };
}

function couponDays(c, frequency, basis) {
  if (basis === 1) return c.ncd - c.pcd;
  if (basis === 3) return 365 / frequency;
  return 360 / frequency;
}

// The coupon arguments: settlement, maturity, frequency, basis, and their period.
function bond(settlement, maturity, frequency, basis) {
  const s = serial(settlement);
  const m = serial(maturity);
  const f = frequencyOf(frequency);
  const b = basisOf(basis);
  const c = coupons(s, m, f);
  const E = couponDays(c, f, b);
  const A = dayCount(c.pcd, s, b);
  const DSC = b === 0 || b === 4 ? E - A : c.ncd - s;
  return { s, m, f, b, c, E, A, DSC, N: c.n };
}

export const COUPPCD = excel((s, m, f, b) => bond(s, m, f, b).c.pcd);
export const COUPNCD = excel((s, m, f, b) => bond(s, m, f, b).c.ncd);
export const COUPNUM = excel((s, m, f, b) => bond(s, m, f, b).N);
export const COUPDAYS = excel((s, m, f, b) => bond(s, m, f, b).E);
export const COUPDAYBS = excel((s, m, f, b) => bond(s, m, f, b).A);
export const COUPDAYSNC = excel((s, m, f, b) => bond(s, m, f, b).DSC);

function price(t, rate, yld, redemption) {
  const coupon = (100 * rate) / t.f;
  const accrued = (coupon * t.A) / t.E;
  if (t.N === 1) {
    return (redemption + coupon) / (1 + ((t.DSC / t.E) * yld) / t.f) - accrued;
  }
  const v = 1 + yld / t.f;
  const first = t.DSC / t.E;
  let sum = redemption / v ** (t.N - 1 + first);
  for (let k = 1; k <= t.N; k++) sum += coupon / v ** (k - 1 + first);
  return sum - accrued;
}

export const PRICE = excel((settlement, maturity, rate, yld, redemption, frequency, basis) => {
  const t = bond(settlement, maturity, frequency, basis);
  const r = number(rate);
  const y = number(yld);
  const red = number(redemption);
  if (r < 0 || y < 0 || red <= 0) fail(NUM());
  return price(t, r, y, red);
});

export const YIELD = excel((settlement, maturity, rate, pr, redemption, frequency, basis) => {
  const t = bond(settlement, maturity, frequency, basis);
  const r = number(rate);
  const p = number(pr);
  const red = number(redemption);
  if (r < 0 || p <= 0 || red <= 0) fail(NUM());
  if (t.N === 1) {
    const paid = p / 100 + ((t.A / t.E) * r) / t.f;
    return ((red / 100 + r / t.f - paid) / paid) * ((t.f * t.E) / t.DSC);
  }
  // The price falls as the yield rises: bisect, then polish with Newton's steps.
  let lo = -t.f + 1e-9;
  let hi = 1;
  while (price(t, r, hi, red) > p) {
    hi *= 2;
    if (hi > 1e6) fail(NUM());
  }
  for (let i = 0; i < 200 && hi - lo > 1e-14; i++) {
    const mid = (lo + hi) / 2;
    if (price(t, r, mid, red) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
});

function duration(settlement, maturity, coupon, yld, frequency, basis) {
  const t = bond(settlement, maturity, frequency, basis);
  const c = number(coupon);
  const y = number(yld);
  if (c < 0 || y < 0) fail(NUM());
  const v = 1 + y / t.f;
  const first = t.DSC / t.E;
  let weighted = 0;
  let total = 0;
  for (let k = 1; k <= t.N; k++) {
    const time = k - 1 + first;
    const flow = (100 * c) / t.f + (k === t.N ? 100 : 0);
    const present = flow / v ** time;
    weighted += time * present;
    total += present;
  }
  return { years: weighted / total / t.f, v };
}

export const DURATION = excel((...args) => duration(...args).years);
export const MDURATION = excel((...args) => {
  const d = duration(...args);
  return d.years / d.v;
});

// The interest accrued from issue to settlement (par × rate × the year fraction); with
// calc_method FALSE and a settlement after the first interest date, from that date.
export const ACCRINT = excel(
  (issue, firstInterest, settlement, rate, par, frequency, basis, calcMethod) => {
    const i = serial(issue);
    const first = serial(firstInterest);
    const s = serial(settlement);
    frequencyOf(frequency);
    const r = number(rate);
    const p = number(par, 1000);
    const b = basisOf(basis);
    const fromIssue = number(calcMethod, 1) !== 0;
    if (r <= 0 || p <= 0 || i >= s) fail(NUM());
    return p * r * yearFrac(!fromIssue && s > first ? first : i, s, b);
  },
);

export const ACCRINTM = excel((issue, settlement, rate, par, basis) => {
  const i = serial(issue);
  const s = serial(settlement);
  const r = number(rate);
  const p = number(par, 1000);
  const b = basisOf(basis);
  if (r <= 0 || p <= 0 || i >= s) fail(NUM());
  return p * r * yearFrac(i, s, b);
});

function term(settlement, maturity, basis) {
  const s = serial(settlement);
  const m = serial(maturity);
  const b = basisOf(basis);
  if (s >= m) fail(NUM());
  return { s, m, b, years: yearFrac(s, m, b) };
}

export const INTRATE = excel((settlement, maturity, investment, redemption, basis) => {
  const t = term(settlement, maturity, basis);
  const inv = number(investment);
  const red = number(redemption);
  if (inv <= 0 || red <= 0) fail(NUM());
  return (red - inv) / inv / t.years;
});

export const RECEIVED = excel((settlement, maturity, investment, discount, basis) => {
  const t = term(settlement, maturity, basis);
  const inv = number(investment);
  const d = number(discount);
  if (inv <= 0 || d <= 0) fail(NUM());
  const left = 1 - d * t.years;
  if (left <= 0) fail(NUM());
  return inv / left;
});

export const YIELDDISC = excel((settlement, maturity, pr, redemption, basis) => {
  const t = term(settlement, maturity, basis);
  const p = number(pr);
  const red = number(redemption);
  if (p <= 0 || red <= 0) fail(NUM());
  return (red - p) / p / t.years;
});

// PRICEMAT and YIELDMAT: a security paying its interest at maturity.
function atMaturity(settlement, maturity, issue, basis) {
  const t = term(settlement, maturity, basis);
  const i = serial(issue);
  if (i > t.s) fail(NUM());
  return { DSM: t.years, DIM: yearFrac(i, t.m, t.b), A: yearFrac(i, t.s, t.b) };
}

export const PRICEMAT = excel((settlement, maturity, issue, rate, yld, basis) => {
  const t = atMaturity(settlement, maturity, issue, basis);
  const r = number(rate);
  const y = number(yld);
  if (r < 0 || y < 0) fail(NUM());
  return (100 + t.DIM * r * 100) / (1 + t.DSM * y) - t.A * r * 100;
});

export const YIELDMAT = excel((settlement, maturity, issue, rate, pr, basis) => {
  const t = atMaturity(settlement, maturity, issue, basis);
  const r = number(rate);
  const p = number(pr);
  if (r < 0 || p <= 0) fail(NUM());
  const paid = p / 100 + t.A * r;
  return ((1 + t.DIM * r - paid) / paid) / t.DSM;
});

// Treasury bills: actual days, a 360-day year, at most one year.
function bill(settlement, maturity) {
  const s = serial(settlement);
  const m = serial(maturity);
  if (s >= m || m - s > 366) fail(NUM());
  return m - s;
}

export const TBILLPRICE = excel((settlement, maturity, discount) => {
  const dsm = bill(settlement, maturity);
  const d = number(discount);
  if (d <= 0) fail(NUM());
  const p = 100 * (1 - (d * dsm) / 360);
  if (p <= 0) fail(NUM());
  return p;
});

export const TBILLYIELD = excel((settlement, maturity, pr) => {
  const dsm = bill(settlement, maturity);
  const p = number(pr);
  if (p <= 0) fail(NUM());
  return ((100 - p) / p) * (360 / dsm);
});

export const TBILLEQ = excel((settlement, maturity, discount) => {
  const dsm = bill(settlement, maturity);
  const d = number(discount);
  if (d <= 0) fail(NUM());
  if (dsm <= 182) return (365 * d) / (360 - d * dsm);
  // Over half a year: the bond-equivalent yield of a semi-annual bond (Excel's formula).
  const p = 100 * (1 - (d * dsm) / 360);
  const ratio = dsm / 365;
  const a = ratio - 0.5;
  return (-ratio + Math.sqrt(ratio * ratio - 4 * a * (1 - 100 / p))) / (2 * a);
});

// AMORLINC: the French linear depreciation, prorated in the first period.
export const AMORLINC = excel((cost, purchased, firstPeriod, salvage, period, rate, basis) => {
  const c = number(cost);
  const p0 = serial(purchased);
  const p1 = serial(firstPeriod);
  const s = number(salvage);
  const per = Math.floor(number(period));
  const r = number(rate);
  const b = basisOf(basis);
  if (b === 2 || c < 0 || s < 0 || s > c || per < 0 || r <= 0 || p1 < p0) fail(NUM());
  const full = c * r;
  const first = yearFrac(p0, p1, b) * r * c;
  const fullPeriods = Math.floor((c - s - first) / full);
  if (per === 0) return Math.min(first, c - s);
  if (per <= fullPeriods) return full;
  if (per === fullPeriods + 1) return Math.max(0, c - s - full * fullPeriods - first);
  return 0;
});

// AMORDEGRC: the French degressive depreciation. The rate is multiplied by a coefficient
// of the asset's life (1/rate: under 3 years 1, under 5 1.5, up to 6 2, beyond 2.5),
// the first period prorated; each amount is rounded to a whole number; half of what is
// left in the second-to-last period, the rest in the last.
export const AMORDEGRC = excel((cost, purchased, firstPeriod, salvage, period, rate, basis) => {
  let c = number(cost);
  const p0 = serial(purchased);
  const p1 = serial(firstPeriod);
  const s = number(salvage);
  const per = Math.floor(number(period));
  const r0 = number(rate);
  const b = basisOf(basis);
  if (b === 2 || c < 0 || s < 0 || s > c || per < 0 || r0 <= 0 || p1 < p0) fail(NUM());
  const life = 1 / r0;
  const coefficient = life < 3 ? 1 : life < 5 ? 1.5 : life <= 6 ? 2 : 2.5;
  const r = r0 * coefficient;
  let amount = Math.round(yearFrac(p0, p1, b) * r * c);
  if (per === 0) return amount;
  c -= amount;
  let rest = c - s;
  for (let n = 0; n < per; n++) {
    amount = Math.round(r * c);
    rest -= amount;
    if (rest < 0) return per - n <= 1 ? Math.round(c * 0.5) : 0;
    c -= amount;
  }
  return amount;
});

// VDB: the declining balance (factor × straight rate) of each whole period, switching to
// straight line over the remaining life once that is more (unless no_switch), never below
// the salvage; a period partly between start and end counts for its part.
export const VDB = excel((cost, salvage, life, start, end, factor, noSwitch) => {
  const c = number(cost);
  const s = number(salvage);
  const n = number(life);
  const from = number(start);
  const to = number(end);
  const f = number(factor, 2);
  const straightNever = number(noSwitch, 0) !== 0;
  if (c < 0 || s < 0 || n <= 0 || from < 0 || to < from || to > n || f <= 0) fail(NUM());
  let book = c;
  let total = 0;
  let switched = false;
  const periods = Math.ceil(to);
  for (let i = 1; i <= periods; i++) {
    const declining = Math.max(0, Math.min(book * Math.min(f / n, 1), book - s));
    // The straight line over the remaining life (the same amount each later period).
    const straight = (book - s) / Math.max(n - (i - 1), 1);
    if (!straightNever && straight > declining) switched = true;
    const amount = switched ? straight : declining;
    const overlap = Math.max(0, Math.min(i, to) - Math.max(i - 1, from));
    total += amount * overlap;
    book -= amount;
  }
  return total;
});

// ---- maths ----

// MDETERM: the determinant of a square array, by Gaussian elimination with partial
// pivoting (the engine's own was wrong from 4 × 4 on: -181 for Excel's example, 88).
export const MDETERM = excel((array) => {
  const rows = Array.isArray(array) ? array.map((r) => (Array.isArray(r) ? r : [r])) : [[array]];
  const n = rows.length;
  if (rows.some((r) => r.length !== n)) fail(VALUE());
  const m = rows.map((r) => r.map((v) => {
    if (v instanceof Error) fail(v);
    if (typeof v !== "number") fail(VALUE());
    return v;
  }));
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (m[pivot][col] === 0) return 0;
    if (pivot !== col) {
      [m[pivot], m[col]] = [m[col], m[pivot]];
      det = -det;
    }
    det *= m[col][col];
    for (let r = col + 1; r < n; r++) {
      const k = m[r][col] / m[col][col];
      for (let c = col; c < n; c++) m[r][c] -= k * m[col][c];
    }
  }
  return det;
});

// ---- statistics ----

function numbersOf(range) {
  const found = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof Error) fail(v);
    else if (typeof v === "number") found.push(v);
  };
  walk(range);
  return found;
}

// The cells of a range in order, text and blanks as null (paired tests keep pairs).
function cellsOf(range) {
  const found = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof Error) fail(v);
    else found.push(typeof v === "number" ? v : null);
  };
  walk(range);
  return found;
}

function logGamma(x) {
  // Lanczos' approximation (g = 7, 9 terms).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028,
    771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

// The continued fraction of the incomplete beta function (modified Lentz).
function betaFraction(x, a, b) {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x, a, b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b)
    + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** Student's t: the probability of a value above |t| (one tail), df degrees of freedom. */
export function studentTail(t, df) {
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sumSquares = (xs, m) => xs.reduce((a, x) => a + (x - m) ** 2, 0);

export const TTEST = excel((range1, range2, tails, type) => {
  const tl = Math.floor(number(tails));
  const ty = Math.floor(number(type));
  if ((tl !== 1 && tl !== 2) || ty < 1 || ty > 3) fail(NUM());
  let t;
  let df;
  if (ty === 1) {
    const a = cellsOf(range1);
    const b = cellsOf(range2);
    if (a.length !== b.length) fail(new Error("#N/A"));
    const d = [];
    a.forEach((x, i) => {
      if (x !== null && b[i] !== null) d.push(x - b[i]);
    });
    if (d.length < 2) fail(DIV0());
    const m = mean(d);
    const sd = Math.sqrt(sumSquares(d, m) / (d.length - 1));
    if (sd === 0) fail(DIV0());
    t = m / (sd / Math.sqrt(d.length));
    df = d.length - 1;
  } else {
    const a = numbersOf(range1);
    const b = numbersOf(range2);
    if (a.length < 2 || b.length < 2) fail(DIV0());
    const ma = mean(a);
    const mb = mean(b);
    const va = sumSquares(a, ma) / (a.length - 1);
    const vb = sumSquares(b, mb) / (b.length - 1);
    if (ty === 2) {
      df = a.length + b.length - 2;
      const pooled = ((a.length - 1) * va + (b.length - 1) * vb) / df;
      t = (ma - mb) / Math.sqrt(pooled * (1 / a.length + 1 / b.length));
    } else {
      const qa = va / a.length;
      const qb = vb / b.length;
      t = (ma - mb) / Math.sqrt(qa + qb);
      df = (qa + qb) ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1));
    }
    if (!Number.isFinite(t)) fail(DIV0());
  }
  return tl * studentTail(t, df);
});

// SKEW.P: the skewness of a population.
export const SKEW_P = excel((...ranges) => {
  const xs = numbersOf(ranges);
  if (xs.length < 1) fail(DIV0());
  const m = mean(xs);
  const sd = Math.sqrt(sumSquares(xs, m) / xs.length);
  if (sd === 0) fail(DIV0());
  return xs.reduce((a, x) => a + ((x - m) / sd) ** 3, 0) / xs.length;
});

/** Every function here by its Excel name. */
export const FUNCTIONS = {
  PRICE, YIELD, DURATION, MDURATION, AMORLINC, AMORDEGRC, VDB,
  COUPPCD, COUPNCD, COUPNUM, COUPDAYS, COUPDAYBS, COUPDAYSNC,
  ACCRINT, ACCRINTM, INTRATE, RECEIVED, YIELDDISC, PRICEMAT, YIELDMAT,
  TBILLPRICE, TBILLYIELD, TBILLEQ,
  MDETERM, "T.TEST": TTEST, TTEST, "SKEW.P": SKEW_P,
};
