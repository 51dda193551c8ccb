/**
 * A destination's bitrate over its last samples (about two minutes), drawn by uPlot on a canvas:
 * no axes, no legend, sized to its box. For screen readers it is an image whose label says the
 * latest value; the number is also printed beside it. A destination without samples (stopped) gets
 * an empty box and no chart: 50 idle cards cost no canvas.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsSample } from '../lib/health.ts';
import { formatBitrate } from '../lib/format.ts';

const HEIGHT = 36;

function data(samples: readonly MetricsSample[]): uPlot.AlignedData {
  return [samples.map((s) => s.at / 1000), samples.map((s) => s.bitrateKbps ?? 0)];
}

function Plot({ samples, label }: { samples: readonly MetricsSample[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(samples);
  latest.current = samples;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Made at the first resize callback, which has the box's width without forcing a layout (50
    // cards each reading clientWidth in turn would lay the page out 50 times).
    const ro = new ResizeObserver((entries) => {
      const width = Math.max(60, Math.floor(entries[0]?.contentRect.width ?? 0));
      if (plot.current) {
        plot.current.setSize({ width, height: HEIGHT });
        return;
      }
      plot.current = new uPlot(
        {
          width,
          height: HEIGHT,
          cursor: { show: false },
          legend: { show: false },
          select: { show: false, left: 0, top: 0, width: 0, height: 0 },
          axes: [{ show: false }, { show: false }],
          scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(100, max * 1.15)] } },
          series: [{}, { stroke: '#1d5fbf', width: 1.5, fill: 'rgba(29, 95, 191, 0.12)', points: { show: false } }],
        },
        data(latest.current),
        el,
      );
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data(samples));
  }, [samples]);

  const last = samples.at(-1)?.bitrateKbps ?? null;
  return <div class="sparkline" ref={box} role="img" aria-label={`${label}: ${formatBitrate(last)} now`} />;
}

/** The sparkline, drawn once there is something to draw (a stopped destination has an empty box). */
export function Sparkline({ samples, label }: { samples: readonly MetricsSample[]; label: string }) {
  if (samples.length === 0) return <div class="sparkline" aria-hidden="true" />;
  return <Plot samples={samples} label={label} />;
}
