// Writes indicator reference values from the independent `technicalindicators` package into
// tests/Engram.Trading.UnitTests/Golden/. Run: npm ci && npm run generate
// Data: <repo>/../shared/data (or ENGRAM_SHARED_DATA). Only computed outputs are written, never candles.
'use strict';
const fs = require('fs');
const path = require('path');
const ti = require('technicalindicators');

const repoRoot = path.resolve(__dirname, '..', '..');
const dataDir = process.env.ENGRAM_SHARED_DATA || path.resolve(repoRoot, '..', 'shared', 'data');
const outDir = path.resolve(repoRoot, 'tests', 'Engram.Trading.UnitTests', 'Golden');
const COUNT = 1000;

function readLast(file, count) {
  const lines = fs.readFileSync(path.join(dataDir, file), 'utf8').trim().split(/\r?\n/).slice(1);
  return lines.slice(-count).map(l => {
    const [t, o, h, lo, c, v] = l.split(',').map(Number);
    return { t, o, h, l: lo, c, v };
  });
}

// technicalindicators returns only the values after warm-up; pad the front with null so that
// index i of every golden array lines up with candle i.
function pad(values, n) {
  return Array(n - values.length).fill(null).concat(values);
}

function build(file) {
  const candles = readLast(file, COUNT);
  const n = candles.length;
  const close = candles.map(c => c.c);
  const high = candles.map(c => c.h);
  const low = candles.map(c => c.l);

  const macd = ti.MACD.calculate({ values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9,
    SimpleMAOscillator: false, SimpleMASignal: false });
  const bb = ti.BollingerBands.calculate({ values: close, period: 20, stdDev: 2 });
  // RSI.calculate rounds to 2 decimals; rebuild the unrounded value from the package's own
  // Wilder averages so the comparison can be tight.
  const gain = pad(ti.AverageGain.calculate({ values: close, period: 14 }), n);
  const loss = pad(ti.AverageLoss.calculate({ values: close, period: 14 }), n);
  const rsiRaw = gain.map((g, i) => (g === null || loss[i] === null) ? null
    : loss[i] === 0 ? 100 : g === 0 ? 0 : 100 - 100 / (1 + g / loss[i]));

  return {
    source: file,
    generator: 'technicalindicators@3.1.0',
    count: n,
    firstOpenTimeMs: candles[0].t,
    lastOpenTimeMs: candles[n - 1].t,
    sma20: pad(ti.SMA.calculate({ values: close, period: 20 }), n),
    ema20: pad(ti.EMA.calculate({ values: close, period: 20 }), n),
    ema50: pad(ti.EMA.calculate({ values: close, period: 50 }), n),
    ema200: pad(ti.EMA.calculate({ values: close, period: 200 }), n),
    rsi14Rounded: pad(ti.RSI.calculate({ values: close, period: 14 }), n),
    rsi14: rsiRaw,
    macdLine: pad(macd.map(m => m.MACD), n),
    macdSignal: pad(macd.map(m => m.signal === undefined ? null : m.signal), n),
    macdHistogram: pad(macd.map(m => m.histogram === undefined ? null : m.histogram), n),
    bbMiddle: pad(bb.map(b => b.middle), n),
    bbUpper: pad(bb.map(b => b.upper), n),
    bbLower: pad(bb.map(b => b.lower), n),
    atr14: pad(ti.ATR.calculate({ high, low, close, period: 14 }), n),
  };
}

fs.mkdirSync(outDir, { recursive: true });
for (const [file, name] of [['binance_BTCUSDT_1h.csv', 'btcusdt_1h.json'], ['binance_ETHUSDT_1d.csv', 'ethusdt_1d.json']]) {
  const golden = build(file);
  fs.writeFileSync(path.join(outDir, name), JSON.stringify(golden) + '\n');
  console.log(`wrote ${name}: ${golden.count} candles`);
}
