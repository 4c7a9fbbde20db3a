// The lathe in the 3D view. Scene axes: x = machine Z, y = machine X as a radius, z toward the operator; the
// spindle axis is the scene's x axis. The stock is the server's display profile revolved (LatheGeometry); the
// chuck's jaw face is machine Z0 and the stock frame (the profile's z) sits at the setup's stick-out.
import * as THREE from "/client/vendor/three.module.js";

const CHUCK = { body_diameter: 200, jaw_height: 40, jaw_length: 30, body_length: 90 };
const SEGMENTS = 96;

export class LatheScene {
  constructor(view, task) {
    this.group = new THREE.Group();
    this.originZ = stockOriginZ(view, task);
    this.clip = [];
    this.steel = new THREE.MeshLambertMaterial({ color: 0xb8c2cc, side: THREE.DoubleSide, clippingPlanes: this.clip });
    this.dark = new THREE.MeshLambertMaterial({ color: 0x4a5560, clippingPlanes: this.clip });
    this.toolMaterial = new THREE.MeshLambertMaterial({ color: 0xd9a300 });
    this.buildChuck();
    this.stock = null;
    this.held = null;
    this.tool = new THREE.Group();
    this.group.add(this.tool);
    this.setStock(view.machine.stock, view);
    this.setTools(view);
  }

  buildChuck() {
    const body = new THREE.Mesh(new THREE.CylinderGeometry(CHUCK.body_diameter / 2, CHUCK.body_diameter / 2, CHUCK.body_length, 48), this.dark);
    body.rotation.z = Math.PI / 2;
    body.position.x = -CHUCK.jaw_length - CHUCK.body_length / 2;
    this.group.add(body);
    this.jaws = [0, 1, 2].map((i) => {
      const jaw = new THREE.Mesh(new THREE.BoxGeometry(CHUCK.jaw_length, CHUCK.jaw_height, 20), this.dark);
      const holder = new THREE.Group();
      holder.rotation.x = (i * 2 * Math.PI) / 3;
      holder.add(jaw);
      this.group.add(holder);
      return jaw;
    });
  }

  /** The stock from the server's display profile {outer: [[z, r]…], inner: […]} (or null: no stock). */
  setStock(profile, view) {
    if (this.stock) { this.group.remove(this.stock); this.stock.geometry.dispose(); this.stock = null; }
    this.held = profile && profile.outer && profile.outer.length ? profile : null;
    const radius = this.held ? Math.max(...this.held.outer.map((p) => p[1])) : 25;
    for (const jaw of this.jaws) jaw.position.set(-CHUCK.jaw_length / 2, radius + CHUCK.jaw_height / 2, 0);
    if (!this.held) return;
    this.originZ = stockOriginZ(view, {}, this.originZ);
    const outer = this.held.outer.map(([z, r]) => new THREE.Vector2(r, z + this.originZ));
    const inner = (this.held.inner || []).map(([z, r]) => new THREE.Vector2(r, z + this.originZ)).reverse();
    const points = [...outer, ...inner];
    if (points.length && !points[0].equals(points[points.length - 1])) points.push(points[0].clone());
    const geometry = new THREE.LatheGeometry(points, SEGMENTS);
    geometry.userData = { outerCount: outer.length, innerCount: inner.length };
    this.stock = new THREE.Mesh(geometry, this.steel);
    this.stock.rotation.z = -Math.PI / 2;          // LatheGeometry's axis (y) onto the spindle axis (x)
    this.group.add(this.stock);
  }

  /** The profile the mesh holds, read back from its geometry, in the server's frame. */
  profile() {
    if (!this.stock) return null;
    const { points } = this.stock.geometry.parameters;
    const { outerCount, innerCount } = this.stock.geometry.userData;
    const back = (p) => [p.y - this.originZ, p.x];
    return { outer: points.slice(0, outerCount).map(back),
             inner: points.slice(outerCount, outerCount + innerCount).map(back).reverse() };
  }

  setTools(view) {
    this.tools = view.machine.tools || {};
    this.station = Number(String(view.modal.T || "0100").padStart(4, "0").slice(0, 2)) || 1;
    this.tool.clear();
    const turret = new THREE.Mesh(new THREE.CylinderGeometry(30, 30, 36, 8), this.dark);
    turret.rotation.z = Math.PI / 2;
    turret.position.set(12, 28, 0);          // the turret body sits behind the turret point, clear of the tip
    turret.name = "turret";
    this.tool.add(turret);
    const tip = this.tipVector(this.station);
    const insert = new THREE.Mesh(new THREE.ConeGeometry(4, 10, 4), this.toolMaterial);
    insert.position.set(tip[1], tip[0], 0);
    insert.rotation.z = Math.PI;
    const shankLength = Math.hypot(tip[0], tip[1]);
    const shank = new THREE.Mesh(new THREE.BoxGeometry(12, Math.max(1, shankLength - 8), 12), this.toolMaterial);
    shank.position.set(tip[1] / 2, tip[0] / 2, 0);
    shank.rotation.z = Math.atan2(tip[1], -tip[0]);
    this.tool.add(insert, shank);
  }

  /** Tip vector of a station as [radial, z] (the server gives x as a diameter). */
  tipVector(station) {
    const tool = this.tools[String(station)];
    return tool ? [tool.tip_vector.x / 2, tool.tip_vector.z] : [0, 0];
  }

  /** The turret point of the server's state as [radius, z] (positions show X as a diameter). */
  serverPoint(view) {
    const m = view.position.machine;
    return [m.X / 2, m.Z];
  }

  placeTool(point, view) {
    const station = Number(String(view.modal.T || "0100").padStart(4, "0").slice(0, 2)) || 1;
    if (station !== this.station) this.setTools(view);
    this.tool.position.set(point[1], point[0], 0);
  }

  /** A motion point (turret point [r, z]) as the tool tip in the scene, for the tool path. */
  tipScene(point, station) {
    const tip = this.tipVector(station || this.station);
    return new THREE.Vector3(point[1] + tip[1], point[0] + tip[0], 0);
  }

  setSection(on) {
    this.clip.length = 0;
    if (on) this.clip.push(new THREE.Plane(new THREE.Vector3(0, 0, -1), 0));
    for (const material of [this.steel, this.dark]) material.needsUpdate = true;
  }

  frameBox() {
    return { centre: new THREE.Vector3(this.originZ + 10, 30, 0), size: 260 };
  }
}

/** Machine z of the stock frame's zero: the setup's stick-out (the server's part origin), which the frame keeps
 * when the candidate chooses another stick-out (docs/operation.md). */
function stockOriginZ(view, task, fallback) {
  const origin = (view.machine && view.machine.part_origin) || task.part_origin;
  if (origin) return Number(origin[1] ?? origin.z);
  const setup = task.machine && task.machine.stock && task.machine.stock.stick_out;
  if (setup !== undefined) return Number(setup);
  if (task.stock && task.stock.stick_out !== undefined) return Number(task.stock.stick_out);
  if (fallback !== undefined) return fallback;
  const spec = view.machine && view.machine.stock_spec;
  return spec && spec.stick_out !== undefined ? Number(spec.stick_out) : 75;
}
