// The 3D view (three.js): the machine's workholding, stock, tool and tool path, animated from the canonical
// moves of the server's replies at their playback seconds (machine speed × overrides). The stock is rebuilt from
// the server's stock changes only: the lathe's revolved profile, the mill's display heightmap tiles.
import * as THREE from "/client/vendor/three.module.js";
import { Orbit } from "./orbit.js";
import { LatheScene } from "./lathe_scene.js";
import { MillScene } from "./mill_scene.js";

const MAX_PATH_SEGMENTS = 20000;
const FRAME_MS = 30;            // about 30 frames a second: enough for machine motion, kind to software WebGL

export class View3D {
  constructor(root, link, label) {
    Object.assign(this, { root, link, label });
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xdfe6ee);
    this.camera = new THREE.PerspectiveCamera(35, 1, 1, 20000);
    this.renderer = createRenderer();
    this.canvas = this.renderer ? this.renderer.domElement : document.createElement("canvas");
    this.canvas.id = "view3d-canvas";
    root.querySelector(".view3d-canvas").append(this.canvas);
    this.orbit = new Orbit(this.camera, this.canvas, () => this.draw());
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(300, 500, 400);
    this.scene.add(sun);
    this.paths = { rapid: pathLines(0xc99a00, true), feed: pathLines(0x1a8f3a, false) };
    this.scene.add(this.paths.rapid, this.paths.feed);
    this.animation = null;          // {motions, startedAt, plan}: a move being animated
    this.machine = null;
    this.section = false;
    this.buildButtons();
    new ResizeObserver(() => this.resize()).observe(root);
    link.on((view, reply) => this.onUpdate(view, reply));
    let last = 0;
    const loop = (now) => {
      if (now - last >= FRAME_MS) { last = now; this.frame(); }
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  buildButtons() {
    const bar = this.root.querySelector(".view3d-buttons");
    const views = [["front", "view.front"], ["top", "view.top"], ["iso", "view.iso"], ["fit", "view.fit"]];
    for (const [name, key] of views) {
      bar.append(button(`view-${name}`, this.label(key), () => this.standardView(name)));
    }
    bar.append(button("view-section", this.label("view.section"), () => { this.section = !this.section; this.machine?.setSection(this.section); this.draw(); }));
    bar.append(button("view-path", this.label("view.path"), () => { this.paths.rapid.visible = this.paths.feed.visible = !this.paths.feed.visible; this.draw(); }));
  }

  onUpdate(view, reply) {
    this.dirty = true;
    if (!this.machine) this.rebuild(view);
    else if (reply.stock || reply.view) this.machine.setStock(view.machine.stock, view);
    if (reply.view || ["turret", "load_tool", "spindle_tool", "remove_tool"].includes(reply.type)) this.machine.setTools(view);
    if (reply.motions && reply.motions.length) this.play(reply.motions, reply.status === "running" ? this.link.plan.startedAt : performance.now(), view);
    if (reply.view && view.status === "running" && (view.pending_motions || []).length) {
      this.play(view.pending_motions, this.link.plan.startedAt || performance.now(), view);   // reloaded mid-run
    }
    if (reply.status && reply.status !== "running" && this.animation && this.animation.plan) this.animation = null;
  }

  rebuild(view) {
    if (this.machine) this.scene.remove(this.machine.group);
    const Scene = this.link.machineType === "mill" ? MillScene : LatheScene;
    this.machine = new Scene(view, this.link.task || {});
    this.machine.setSection(this.section);
    this.scene.add(this.machine.group);
    this.standardView("iso");
  }

  /** Animate `motions` from `startedAt` (page clock); their lines join the tool path. */
  play(motions, startedAt, view) {
    this.addPath(motions);
    this.dirty = true;
    // A locked machine does not move: its path is drawn once, and no frames are spent on an animation.
    this.animation = view.switches.machine_lock ? null : { motions, startedAt, plan: view.status === "running" };
  }

  addPath(motions) {
    for (const motion of motions) {
      const lines = motion.kind === "rapid" ? this.paths.rapid : this.paths.feed;
      const points = sampleMotion(motion).map((p) => this.machine.tipScene(p, motion.tool));
      for (let i = 1; i < points.length; i += 1) appendSegment(lines, points[i - 1], points[i]);
    }
  }

  /** Where the turret point / spindle is now: inside the animation, or the server's position. */
  currentPoint() {
    const view = this.link.view;
    const a = this.animation;
    if (a) {
      let t = (performance.now() - a.startedAt) / 1000;
      for (const motion of a.motions) {
        const seconds = motion.seconds ?? 0;
        if (motion.seconds === null) return motion.start;          // held by a 0 % override
        if (t <= seconds) return pointAt(motion, seconds > 0 ? t / seconds : 1);
        t -= seconds;
      }
      if (!a.plan) this.animation = null;
      else return a.motions[a.motions.length - 1].end;
    }
    return this.machine.serverPoint(view);
  }

  /** One animation frame: drawn only while something moves or changed (software WebGL is dear on exam PCs). */
  frame() {
    if (!this.machine || !this.link.view || !(this.dirty || this.animation)) return;
    this.dirty = false;
    this.machine.placeTool(this.currentPoint(), this.link.view);
    if (this.renderer) this.renderer.render(this.scene, this.camera);
  }

  draw() { this.dirty = true; }

  resize() {
    const box = this.root.querySelector(".view3d-canvas").getBoundingClientRect();
    const width = Math.max(100, box.width), height = Math.max(100, box.height);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    if (this.renderer) this.renderer.setSize(width, height, false);
    this.draw();
  }

  standardView(name) {
    if (!this.machine) return;
    const { centre, size } = this.machine.frameBox();
    const radius = size * 2.2;         // the workholding and the tool's approach in view, not only the part
    const directions = { front: [0, Math.PI / 2], top: [0, 0.0001], iso: [Math.PI / 5, Math.PI / 3], fit: [this.orbit.spherical.theta, this.orbit.spherical.phi] };
    const [theta, phi] = directions[name];
    this.orbit.set(centre, radius, theta, phi);
  }

  /** The lathe profile the mesh was built from, in the server's frame (for the pixel-free mesh check). */
  profile() { return this.machine && this.machine.profile ? this.machine.profile() : null; }

  /** The mill's display height at (x, y) of the stock frame as the browser holds it (after decoding). */
  async heightAt(x, y) {
    if (!this.machine || !this.machine.heightAt) return null;
    await this.machine.ready();
    return this.machine.heightAt(x, y);
  }
}

function createRenderer() {
  try {
    const renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    renderer.localClippingEnabled = true;
    return renderer;
  } catch (error) {
    console.warn("no WebGL: the 3D view keeps its model but cannot draw", error);   // eslint-disable-line no-console
    return null;
  }
}

function button(id, text, onClick) {
  const node = Object.assign(document.createElement("button"), { type: "button", id, textContent: text, className: "vbtn" });
  node.addEventListener("click", onClick);
  return node;
}

function pathLines(color, dashed) {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(new Float32Array(MAX_PATH_SEGMENTS * 6), 3));
  geometry.setDrawRange(0, 0);
  const material = dashed ? new THREE.LineDashedMaterial({ color, dashSize: 3, gapSize: 2 }) : new THREE.LineBasicMaterial({ color });
  const lines = new THREE.LineSegments(geometry, material);
  lines.frustumCulled = false;
  lines.userData.count = 0;
  return lines;
}

function appendSegment(lines, a, b) {
  const geometry = lines.geometry;
  const position = geometry.attributes.position;
  if (lines.userData.count >= MAX_PATH_SEGMENTS) lines.userData.count = 0;     // a long exam: wrap around
  const i = lines.userData.count * 2;
  position.setXYZ(i, a.x, a.y, a.z);
  position.setXYZ(i + 1, b.x, b.y, b.z);
  lines.userData.count += 1;
  position.needsUpdate = true;
  geometry.setDrawRange(0, Math.max(geometry.drawRange.count, lines.userData.count * 2));
  if (lines.material.isLineDashedMaterial) lines.computeLineDistances();
}

/** The two coordinates of a motion's arc plane (lathe: x radius, z; mill: by its plane). */
function arcAxes(motion) {
  if (motion.start.length === 2) return [1, 0];
  return { G18: [2, 0], G19: [1, 2], ZX: [2, 0], YZ: [1, 2] }[motion.plane] || [0, 1];
}

/** A point of a motion at fraction f of its time: straight lines linearly, arcs about their centre. */
export function pointAt(motion, f) {
  const { start, end, centre } = motion;
  const point = start.map((s, i) => s + (end[i] - s) * f);
  if (!centre || !["arc", "cw", "ccw"].some((k) => String(motion.kind).includes(k))) return point;
  const [u, v] = arcAxes(motion);
  const cu = centre[u] ?? centre[0], cv = centre[v] ?? centre[1];
  const a0 = Math.atan2(start[v] - cv, start[u] - cu);
  let sweep = Math.atan2(end[v] - cv, end[u] - cu) - a0;
  if (motion.clockwise && sweep > 0) sweep -= 2 * Math.PI;
  if (!motion.clockwise && sweep < 0) sweep += 2 * Math.PI;
  const r = Math.hypot(start[u] - cu, start[v] - cv);
  point[u] = cu + r * Math.cos(a0 + sweep * f);
  point[v] = cv + r * Math.sin(a0 + sweep * f);
  return point;
}

function sampleMotion(motion) {
  const steps = motion.centre ? 16 : 1;
  return Array.from({ length: steps + 1 }, (_, i) => pointAt(motion, i / steps));
}
