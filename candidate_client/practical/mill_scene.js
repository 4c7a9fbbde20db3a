// The machining centre in the 3D view. Scene axes: x = machine X, y = machine Z (up), z = −machine Y; the
// origin is the stock frame's (the centre of the raw stock's top face). The stock's top is the server's display
// heightmap, kept whole in the browser (0.1 mm cells) and drawn every STEP cells; changed 32 × 32 tiles arrive
// as zlib-compressed float32 (docs/trace-format.md) and update only their part of the mesh.
import * as THREE from "/client/vendor/three.module.js";

const STEP = 4;                 // draw every 4th cell: 0.4 mm on screen, the exact stock stays on the server
const GAUGE_TO_EDGE_FINDER_TIP = 100;

export class MillScene {
  constructor(view) {
    this.group = new THREE.Group();
    this.steel = new THREE.MeshLambertMaterial({ color: 0xb8c2cc, side: THREE.DoubleSide });
    this.dark = new THREE.MeshLambertMaterial({ color: 0x4a5560 });
    this.toolMaterial = new THREE.MeshLambertMaterial({ color: 0xd9a300 });
    this.decoding = Promise.resolve();
    this.spindle = new THREE.Group();
    this.group.add(this.spindle);
    this.setStock(view.machine.stock, view);
    this.setTools(view);
  }

  setStock(stock, view) {
    this.stockState = stock;
    const po = (stock && stock.part_origin) || [0, 0, 0];
    this.origin = [po[0], po[1], po[2] - 12 + ((stock && stock.protrusion) ?? 12)];
    const grid = stock && stock.loaded && stock.heightmap;
    const same = grid && this.grid && this.grid.shape.join() === grid.shape.join() && this.loaded;
    if (!same) this.rebuild(stock, grid);
    const tiles = same ? stock.changed_tiles || [] : [...(stock?.tiles || []), ...Object.values(stock?.tiles_by_key || {})];
    for (const tile of tiles) this.decoding = this.decoding.then(() => this.applyTile(tile));
    void view;
  }

  rebuild(stock, grid) {
    for (const old of [this.top, this.sides, this.vise]) if (old) this.group.remove(old);
    this.top = this.sides = null;
    this.loaded = Boolean(grid);
    this.grid = grid || null;
    this.vise = this.buildVise(stock);
    this.group.add(this.vise);
    if (!grid) return;
    const [rows, cols] = grid.shape;
    this.full = new Float32Array(rows * cols);
    this.top = new THREE.Mesh(gridGeometry(grid), this.steel);
    const spec = stock.spec;
    const box = new THREE.BoxGeometry(spec.x, spec.z, spec.y);
    const hidden = new THREE.MeshBasicMaterial({ visible: false });
    this.sides = new THREE.Mesh(box, [this.steel, this.steel, hidden, this.steel, this.steel, this.steel]);
    this.sides.position.y = -spec.z / 2 - 0.05;
    this.group.add(this.top, this.sides);
  }

  buildVise(stock) {
    const vise = new THREE.Group();
    const spec = (stock && stock.spec) || { x: 80, y: 80, z: 30 };
    const below = (stock && stock.protrusion) ?? 12;
    for (const side of [-1, 1]) {
      const jaw = new THREE.Mesh(new THREE.BoxGeometry(Math.max(120, spec.x + 40), 45, 20), this.dark);
      jaw.position.set(0, -below - 22.5, side * (spec.y / 2 + 10));
      vise.add(jaw);
    }
    const bed = new THREE.Mesh(new THREE.BoxGeometry(Math.max(120, spec.x + 40), 20, spec.y + 80), this.dark);
    bed.position.y = -below - 55;
    vise.add(bed);
    return vise;
  }

  async applyTile(tile) {
    if (!this.grid) return;
    const values = await decodeTile(tile.z);
    const [, cols] = this.grid.shape;
    const r0 = tile.row * this.grid.tile, c0 = tile.col * this.grid.tile;
    for (let r = 0; r < tile.rows; r += 1) {
      this.full.set(values.subarray(r * tile.cols, (r + 1) * tile.cols), (r0 + r) * cols + c0);
    }
    this.refreshTop(r0, c0, tile.rows, tile.cols);
  }

  refreshTop(r0, c0, rows, cols) {
    const position = this.top.geometry.attributes.position;
    const [, allCols] = this.grid.shape;
    const drawnCols = Math.floor((allCols - 1) / STEP) + 1;
    for (let r = Math.ceil(r0 / STEP) * STEP; r < r0 + rows; r += STEP) {
      for (let c = Math.ceil(c0 / STEP) * STEP; c < c0 + cols; c += STEP) {
        position.setY((r / STEP) * drawnCols + c / STEP, this.full[r * allCols + c]);
      }
    }
    position.needsUpdate = true;
    this.top.geometry.computeVertexNormals();
  }

  /** The held display height (stock frame) of the cell under (x, y), for the pixel-free mesh checks. */
  heightAt(x, y) {
    if (!this.full) return null;
    const [rows, cols] = this.grid.shape;
    const c = Math.floor((x - this.grid.origin[0]) / this.grid.cell[0]);
    const r = Math.floor((y - this.grid.origin[1]) / this.grid.cell[1]);
    if (r < 0 || c < 0 || r >= rows || c >= cols) return null;
    return this.full[r * cols + c];
  }

  /** Settles once every tile received so far is decoded into the mesh. */
  ready() { return this.decoding; }

  setTools(view) {
    this.view = view;
    this.spindle.clear();
    const head = new THREE.Mesh(new THREE.CylinderGeometry(40, 40, 120, 32), this.dark);
    head.position.y = 60 + 40;
    this.spindle.add(head);
    const tool = toolInSpindle(view);
    this.toolLength = tool ? tool.length : 0;
    if (!tool) return;
    const holder = new THREE.Mesh(new THREE.CylinderGeometry(tool.holder_diameter / 2, tool.holder_diameter / 2, 40, 24), this.dark);
    holder.position.y = 20;
    const cutter = new THREE.Mesh(new THREE.CylinderGeometry(tool.diameter / 2, tool.diameter / 2, tool.length, 24), this.toolMaterial);
    cutter.position.y = -tool.length / 2;
    this.spindle.add(holder, cutter);
  }

  serverPoint(view) {
    const m = view.position.machine;
    return [m.X, m.Y, m.Z];
  }

  placeTool(point, view) {
    if (view.machine.spindle_tool !== this.view.machine.spindle_tool || view.machine.probe !== this.view.machine.probe) this.setTools(view);
    const p = this.toScene(point);
    this.spindle.position.copy(p);
  }

  toScene(point) {
    return new THREE.Vector3(point[0] - this.origin[0], point[2] - this.origin[2], -(point[1] - this.origin[1]));
  }

  tipScene(point) { return this.toScene([point[0], point[1], point[2] - this.toolLength]); }

  setSection() {}

  frameBox() {
    const spec = (this.stockState && this.stockState.spec) || { x: 80, y: 80 };
    return { centre: new THREE.Vector3(0, -10, 0), size: Math.max(spec.x, spec.y) * 1.5 };
  }
}

/** The tool the spindle holds: the magazine pocket's crib tool, the edge finder, or null. */
function toolInSpindle(view) {
  const machine = view.machine;
  if (machine.probe === "edge_finder") {
    return { length: GAUGE_TO_EDGE_FINDER_TIP, diameter: 10, holder_diameter: 32 };
  }
  const pocket = machine.spindle_tool;
  if (!pocket) return null;
  const held = (machine.magazine || {})[String(pocket)];
  const number = typeof held === "object" && held !== null ? held.number ?? held.tool : held;
  const tool = typeof held === "object" && held && held.length ? held : (machine.crib || {})[String(number)];
  return tool || null;
}

function gridGeometry(grid) {
  const [rows, cols] = grid.shape;
  const drawnRows = Math.floor((rows - 1) / STEP) + 1, drawnCols = Math.floor((cols - 1) / STEP) + 1;
  const positions = new Float32Array(drawnRows * drawnCols * 3);
  for (let r = 0; r < drawnRows; r += 1) {
    for (let c = 0; c < drawnCols; c += 1) {
      const i = (r * drawnCols + c) * 3;
      positions[i] = grid.origin[0] + (c * STEP + 0.5) * grid.cell[0];
      positions[i + 1] = 0;
      positions[i + 2] = -(grid.origin[1] + (r * STEP + 0.5) * grid.cell[1]);
    }
  }
  const index = [];
  for (let r = 0; r + 1 < drawnRows; r += 1) {
    for (let c = 0; c + 1 < drawnCols; c += 1) {
      const a = r * drawnCols + c, b = a + 1, d = a + drawnCols, e = d + 1;
      index.push(a, d, b, b, d, e);
    }
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(index);
  geometry.computeVertexNormals();
  return geometry;
}

/** base64 of a zlib stream of little-endian float32 → Float32Array. */
async function decodeTile(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const buffer = await new Response(stream).arrayBuffer();
  const view = new DataView(buffer);
  const values = new Float32Array(buffer.byteLength / 4);
  for (let i = 0; i < values.length; i += 1) values[i] = view.getFloat32(i * 4, true);
  return values;
}
