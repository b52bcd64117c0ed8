// Units per day as a bar chart (uPlot), with the numbers in a table for screen readers.
import { useEffect, useRef } from "react";
import uPlot from "uplot";

export interface DayUnits {
  day: Date;
  units: number;
}

export function UsageChart({ days }: { days: DayUnits[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const widthOf = () => Math.max(240, Math.min(el.clientWidth || 640, 900));
    const width = widthOf();
    const data: uPlot.AlignedData = [days.map((d) => d.day.getTime() / 1000), days.map((d) => d.units)];
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        // The whole month, whatever days have units (one day alone must not set the range).
        scales: {
          x: { time: true, range: () => [data[0][0] - 43200, data[0][data[0].length - 1] + 43200] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [{ stroke: "#1f2933" }, { stroke: "#1f2933", label: "units" }],
        series: [
          {},
          {
            label: "units",
            stroke: "#1d4ed8",
            fill: "rgba(29, 78, 216, 0.25)",
            paths: uPlot.paths.bars?.({ size: [0.6, 40] }),
            points: { show: false },
          },
        ],
      },
      data,
      el,
    );
    // Follow the page's width (a phone turned, a window resized).
    const resize = new ResizeObserver(() => plot.setSize({ width: widthOf(), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days]);
  return (
    <figure className="chart">
      <div ref={host} data-testid="usage-chart" role="img" aria-label="Units used per day, this month" />
      <figcaption className="sr-only">
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Units</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day.toISOString()}>
                <td>{d.day.toLocaleDateString()}</td>
                <td>{d.units}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </figcaption>
    </figure>
  );
}

/** Used vs included as a gauge (a meter element, so assistive technology reads it). */
export function UnitsGauge({ used, included }: { used: number; included: number }) {
  const pct = included > 0 ? Math.round((used / included) * 100) : 0;
  return (
    <div className="gauge">
      <meter min={0} max={Math.max(included, 1)} value={Math.min(used, Math.max(included, 1))} high={included * 0.8} optimum={0} aria-label="Units used of the included units" />
      <p>
        <strong data-testid="units-used">{used.toLocaleString()}</strong> of {included.toLocaleString()} included units ({pct}%)
      </p>
    </div>
  );
}
