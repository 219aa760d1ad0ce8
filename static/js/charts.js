// Draws every chart placed with {% chart %} (templates/includes/chart.html) from its JSON endpoint
// (crm/views/charts.py) with Apache ECharts, fills its table from the same numbers and points its CSV link at
// the same query. A page's filter form (data-chart-filters) redraws its charts without reloading the page.
(() => {
  const lang = document.documentElement.lang || "en";
  const zh = lang.toLowerCase().startsWith("zh");
  const numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const percentFormat = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const palette = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#d63384", "#198754", "#ffc107", "#0dcaf0", "#6c757d", "#dc3545", "#6610f2", "#adb5bd"];
  let mapLoaded = null;

  const format = (value, kind) => {
    if (value === null || value === undefined || value === "") return "–";
    if (typeof value !== "number") return String(value);
    if (kind === "percent") return percentFormat.format(value);
    return numberFormat.format(value);
  };

  function queryFor(figure) {
    const params = new URLSearchParams(figure.dataset.chartQuery || "");
    const form = figure.dataset.chartFilters && document.querySelector(figure.dataset.chartFilters);
    if (form) {
      for (const [name, value] of new FormData(form)) {
        if (value !== "" && name !== "csrfmiddlewaretoken") params.append(name, value);
      }
    }
    return params.toString();
  }

  function renderTable(figure, data) {
    const holder = figure.querySelector(".crm-chart-table");
    const table = document.createElement("table");
    table.className = "table table-sm table-striped mb-0";
    const head = table.createTHead().insertRow();
    data.columns.forEach((column) => {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = column.label;
      if (column.kind !== "text") cell.className = "text-end";
      head.appendChild(cell);
    });
    const body = table.createTBody();
    data.rows.forEach((row) => {
      const line = body.insertRow();
      row.forEach((value, index) => {
        const cell = line.insertCell();
        cell.textContent = format(value, data.columns[index].kind);
        if (data.columns[index].kind !== "text") cell.className = "text-end";
      });
    });
    holder.replaceChildren(table);
  }

  const columnIndex = (data, key) => data.columns.findIndex((column) => column.key === key);
  const columnOf = (data, key) => data.columns[columnIndex(data, key)];
  const valuesOf = (data, key) => data.rows.map((row) => row[columnIndex(data, key)]);
  const valueFormatter = (kind) => (value) => format(value, kind);

  function cartesian(data, spec) {
    const horizontal = spec.type === "hbar";
    const categories = valuesOf(data, spec.x);
    const first = columnOf(data, (spec.y || [])[0]);
    const axisValue = { type: "value", axisLabel: { formatter: valueFormatter(first && first.kind) } };
    const axisCategory = { type: "category", data: categories, inverse: horizontal };
    const yAxis = [axisValue];
    if (spec.y2 && spec.y2.length) {
      const kind = columnOf(data, spec.y2[0]).kind;
      yAxis.push({ type: "value", axisLabel: { formatter: valueFormatter(kind) }, splitLine: { show: false } });
    }
    const series = [];
    const add = (key, axis) => {
      const column = columnOf(data, key);
      const kind = spec.type === "line" || axis === 1 ? "line" : "bar";
      series.push({
        name: column.label,
        type: kind,
        data: valuesOf(data, key),
        yAxisIndex: horizontal ? undefined : axis,
        stack: spec.stack && kind === "bar" ? "total" : undefined,
        smooth: false,
        showSymbol: categories.length < 40,
        tooltip: { valueFormatter: valueFormatter(column.kind) },
      });
    };
    (spec.y || []).forEach((key) => add(key, 0));
    (spec.y2 || []).forEach((key) => add(key, 1));
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: horizontal ? axisValue : axisCategory,
      yAxis: horizontal ? axisCategory : yAxis,
      series,
      dataZoom: categories.length > 60 && !horizontal ? [{ type: "inside" }] : undefined,
    };
  }

  function pie(data, spec) {
    const names = valuesOf(data, spec.name);
    const values = valuesOf(data, spec.value);
    const column = columnOf(data, spec.value);
    return {
      tooltip: { trigger: "item", valueFormatter: valueFormatter(column.kind) },
      legend: { type: "scroll", bottom: 0 },
      series: [
        {
          type: "pie",
          radius: ["35%", "65%"],
          center: ["50%", "45%"],
          data: names.map((name, index) => ({ name, value: values[index] })),
          // Inside the slices: names outside would be cut off on a phone; the legend names them.
          label: { position: "inside", formatter: (p) => (p.percent >= 5 ? `${Math.round(p.percent)}%` : ""), color: "#fff" },
        },
      ],
    };
  }

  function heatmap(data, spec) {
    const xs = [...new Set(valuesOf(data, spec.x))];
    const ys = [...new Set(valuesOf(data, spec.y))];
    const values = valuesOf(data, spec.value);
    const column = columnOf(data, spec.value);
    const xi = columnIndex(data, spec.x);
    const yi = columnIndex(data, spec.y);
    const points = data.rows.map((row, index) => [xs.indexOf(row[xi]), ys.indexOf(row[yi]), values[index]]);
    const max = spec.visual_max ?? Math.max(0, ...values.filter((v) => typeof v === "number"));
    return {
      tooltip: { position: "top", valueFormatter: valueFormatter(column.kind) },
      grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: xs, splitArea: { show: true } },
      yAxis: { type: "category", data: ys, inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: max || 1,
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        formatter: valueFormatter(column.kind),
        inRange: { color: ["#f1f5ff", "#0d6efd"] },
      },
      series: [
        {
          type: "heatmap",
          data: points,
          label: { show: xs.length <= 13, formatter: (p) => format(p.data[2], column.kind), fontSize: 10 },
        },
      ],
    };
  }

  function forecast(data, spec) {
    // Columns: x, actual, mean, lo80, hi80, lo95, hi95. Bands are drawn as stacked areas (low + width).
    const x = valuesOf(data, spec.x);
    const get = (key) => valuesOf(data, key);
    const [lo95, hi95, lo80, hi80] = ["lo95", "hi95", "lo80", "hi80"].map(get);
    const width = (lo, hi) => lo.map((value, index) => (value === null ? null : hi[index] - value));
    const label = (key) => columnOf(data, key).label;
    const kind = columnOf(data, "actual").kind;
    const band = (name, base, stack, color) => [
      { name, type: "line", data: base, stack, lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
      { name, type: "line", data: stack === "b95" ? width(lo95, hi95) : width(lo80, hi80), stack, symbol: "none",
        lineStyle: { opacity: 0 }, areaStyle: { color }, tooltip: { show: false } },
    ];
    return {
      tooltip: { trigger: "axis", valueFormatter: valueFormatter(kind) },
      legend: { top: 0, data: [label("actual"), label("mean"), label("lo95"), label("lo80")] },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: x },
      yAxis: { type: "value", axisLabel: { formatter: valueFormatter(kind) } },
      series: [
        ...band(label("lo95"), lo95, "b95", "rgba(13,110,253,0.12)"),
        ...band(label("lo80"), lo80, "b80", "rgba(13,110,253,0.25)"),
        { name: label("actual"), type: "line", data: get("actual"), symbol: "circle", color: "#212529" },
        { name: label("mean"), type: "line", data: get("mean"), lineStyle: { type: "dashed" }, color: "#0d6efd" },
      ],
    };
  }

  async function chinaMap(figure) {
    mapLoaded ??= fetch(figure.dataset.mapUrl)
      .then((response) => response.json())
      .then((geo) => echarts.registerMap("china", geo));
    return mapLoaded;
  }

  function map(data, spec) {
    const names = valuesOf(data, spec.name);
    const values = valuesOf(data, spec.value);
    const column = columnOf(data, spec.value);
    return {
      tooltip: { trigger: "item", valueFormatter: valueFormatter(column.kind) },
      visualMap: {
        min: 0,
        max: Math.max(1, ...values.filter((v) => typeof v === "number")),
        left: 0,
        bottom: 0,
        calculable: true,
        formatter: valueFormatter(column.kind),
        inRange: { color: ["#e7f0ff", "#0d6efd"] },
      },
      series: [
        {
          name: column.label,
          type: "map",
          map: "china",
          roam: false,
          data: names.map((name, index) => ({ name, value: values[index] })),
        },
      ],
    };
  }

  const builders = { line: cartesian, bar: cartesian, hbar: cartesian, pie, heatmap, forecast, map };

  async function draw(figure) {
    const status = figure.querySelector(".crm-chart-status");
    const canvas = figure.querySelector(".crm-chart-canvas");
    const notes = figure.querySelector(".crm-chart-notes");
    canvas.style.height = `${canvas.dataset.height || 320}px`;
    const query = queryFor(figure);
    const csv = figure.querySelector(".crm-chart-csv");
    csv.href = figure.dataset.csvUrl + (query ? `?${query}` : "");
    figure.dataset.state = "loading";
    let data;
    try {
      const response = await fetch(figure.dataset.chartUrl + (query ? `?${query}` : ""), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      // A refusal or a server error may answer with an HTML page: only a JSON answer's reasons are shown.
      data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const reasons = Object.values(data.errors || {}).flat();
        throw new Error(reasons.join(" ") || figure.dataset.errorText);
      }
    } catch (error) {
      status.textContent = error instanceof SyntaxError || error instanceof TypeError ? figure.dataset.errorText : error.message;
      status.classList.add("text-danger");
      figure.dataset.state = "error";
      return;
    }
    status.classList.remove("text-danger");
    notes.replaceChildren(
      ...data.notes.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    renderTable(figure, data);
    if (!data.rows.length) {
      status.textContent = figure.dataset.emptyText;
      canvas.hidden = true;
      figure.dataset.state = "empty";
      return;
    }
    canvas.hidden = false;
    status.textContent = "";
    if (data.spec.type === "map") await chinaMap(figure);
    const chart = echarts.getInstanceByDom(canvas) || echarts.init(canvas, null, { locale: zh ? "ZH" : "EN" });
    const option = builders[data.spec.type](data, data.spec);
    option.color = palette;
    option.animation = false; // drawn at once, so a screenshot (or a reader) sees the final chart
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style attributes, which the CSP refuses.
    if (option.tooltip) option.tooltip.renderMode = "richText";
    chart.setOption(option, true);
    figure.dataset.state = "drawn";
    figure.dispatchEvent(new CustomEvent("crm:chart-drawn", { bubbles: true }));
  }

  function drawAll(root) {
    root.querySelectorAll(".crm-chart[data-chart-url]").forEach(draw);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.id) return;
    const figures = document.querySelectorAll(`.crm-chart[data-chart-filters="#${form.id}"]`);
    if (!figures.length) return;
    event.preventDefault();
    const query = new URLSearchParams(new FormData(form));
    for (const [name, value] of [...query]) if (value === "") query.delete(name);
    history.replaceState(null, "", `${location.pathname}?${query}`);
    figures.forEach(draw);
  });

  window.addEventListener("resize", () => {
    document.querySelectorAll(".crm-chart-canvas").forEach((canvas) => {
      const chart = echarts.getInstanceByDom(canvas);
      if (chart) chart.resize();
    });
  });
  document.addEventListener("htmx:afterSwap", (event) => drawAll(event.target));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => drawAll(document));
  else drawAll(document);
})();
