/**
 * The 3D view: the solid with its B-rep edges, an optional ghost reference, a clipping plane and
 * an axes triad. The ghost is drawn where the IoU protocol compared it (`setReferencePlacement`:
 * the reference's map into the candidate's coordinates, scaled and turned for the aligned
 * protocols), or where it is when the `rawFrame` toggle is on or no placement is known. Renders on demand (camera moves, new data, resize), not in a loop: a preview tab
 * left open should cost nothing.
 */
import {
  AmbientLight,
  BackSide,
  BufferAttribute,
  BufferGeometry,
  Color,
  DirectionalLight,
  DoubleSide,
  FrontSide,
  Group,
  HemisphereLight,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshBasicMaterial,
  MeshStandardMaterial,
  type Object3D,
  OrthographicCamera,
  PerspectiveCamera,
  Plane,
  Scene,
  Sphere,
  Sprite,
  SpriteMaterial,
  CanvasTexture,
  Vector3,
  WebGLRenderer,
  Box3,
  Matrix4,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { Affine, BoundingBox, CameraView, PreviewMesh, ToggleName } from '../src/protocol/messages';

export type ClipAxis = 'x' | 'y' | 'z';

interface Palette {
  shape: Color;
  edges: Color;
  cap: Color;
  reference: Color;
}

const VIEW_DIRECTIONS: Record<Exclude<CameraView, 'fit'>, Vector3> = {
  // CadQuery is Z-up; "front" looks along +Y, as in CadQuery/FreeCAD.
  iso: new Vector3(1, -1, 0.8).normalize(),
  front: new Vector3(0, -1, 0),
  // Straight down would make OrbitControls' up vector degenerate; a hair of tilt keeps it stable.
  top: new Vector3(0, -1e-4, 1).normalize(),
  right: new Vector3(1, 0, 0),
};

export class Viewer {
  readonly available: boolean;
  readonly failure?: string;
  private renderer?: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(35, 1, 0.01, 1000);
  private controls?: OrbitControls;
  private readonly shapeGroup = new Group();
  private readonly referenceGroup = new Group();
  private shapeMesh?: Mesh;
  private shapeCap?: Mesh;
  private shapeEdges?: LineSegments;
  private referenceMesh?: Mesh;
  private referenceEdges?: LineSegments;
  /** The reference's map into the candidate's coordinates under the IoU's protocol, when known. */
  private referencePlacement?: Affine;
  private readonly shapeMaterial = new MeshStandardMaterial({
    roughness: 0.55,
    metalness: 0.05,
    polygonOffset: true,
    polygonOffsetFactor: 1,
    polygonOffsetUnits: 1,
  });
  private readonly capMaterial = new MeshBasicMaterial({ side: BackSide });
  private readonly edgeMaterial = new LineBasicMaterial();
  private readonly referenceMaterial = new MeshStandardMaterial({ transparent: true, opacity: 0.22, depthWrite: false, side: DoubleSide, roughness: 0.9 });
  private readonly referenceEdgeMaterial = new LineBasicMaterial({ transparent: true, opacity: 0.55 });
  private readonly clipPlane = new Plane(new Vector3(0, 0, -1), 0);
  private clipAxis: ClipAxis = 'z';
  private clipFraction = 0.5;
  private clipFlipped = false;
  private readonly headLight = new DirectionalLight(0xffffff, 1.6);
  private readonly triadScene = new Scene();
  private readonly triadCamera = new OrthographicCamera(-1.6, 1.6, 1.6, -1.6, 0.1, 10);
  private readonly triad = new Group();
  private lastView: CameraView | 'custom' = 'iso';
  private hasFitted = false;
  private renderQueued = false;
  readonly toggles: Record<ToggleName, boolean> = { wireframe: false, edges: true, transparent: false, clip: false, reference: true, rawFrame: false };

  constructor(private readonly container: HTMLElement) {
    try {
      this.renderer = new WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: false });
      this.available = true;
    } catch (e) {
      this.available = false;
      this.failure = `WebGL is not available here (${(e as Error).message}); the 3D view is off.`;
    }
    this.camera.up.set(0, 0, 1);
    this.referenceGroup.matrixAutoUpdate = false;
    this.scene.add(this.shapeGroup, this.referenceGroup, new HemisphereLight(0xffffff, 0x555560, 1.1), new AmbientLight(0xffffff, 0.25));
    // The key light rides with the camera, so the face you look at is always lit.
    this.camera.add(this.headLight);
    this.headLight.position.set(0.4, 0.6, 1);
    this.scene.add(this.camera);
    this.buildTriad();
    if (!this.renderer) return;
    const r = this.renderer;
    r.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    r.setClearColor(0x000000, 0);
    r.localClippingEnabled = true;
    r.autoClear = false;
    container.appendChild(r.domElement);
    r.domElement.classList.add('viewport-canvas');
    this.controls = new OrbitControls(this.camera, r.domElement);
    this.controls.enableDamping = false;
    this.controls.screenSpacePanning = true;
    this.controls.addEventListener('change', () => this.requestRender());
    this.controls.addEventListener('start', () => (this.lastView = 'custom'));
    new ResizeObserver(() => this.resize()).observe(container);
    this.applyTheme();
    this.resize();
  }

  get view(): CameraView | 'custom' {
    return this.lastView;
  }

  counts(): { triangles: number; edgeSegments: number; referenceTriangles: number } {
    const tri = (m?: Mesh) => (m?.geometry.index ? m.geometry.index.count / 3 : 0);
    const seg = this.shapeEdges ? (this.shapeEdges.geometry.getAttribute('position')?.count ?? 0) / 2 : 0;
    return { triangles: tri(this.shapeMesh), edgeSegments: seg, referenceTriangles: tri(this.referenceMesh) };
  }

  setShape(mesh: PreviewMesh): void {
    this.disposeChildren(this.shapeGroup);
    const geometry = meshGeometry(mesh);
    this.shapeMesh = new Mesh(geometry, this.shapeMaterial);
    this.shapeCap = new Mesh(geometry, this.capMaterial);
    this.shapeCap.renderOrder = -1;
    this.shapeEdges = new LineSegments(edgeGeometry(mesh), this.edgeMaterial);
    this.shapeGroup.add(this.shapeMesh, this.shapeCap, this.shapeEdges);
    this.applyToggles();
    if (!this.hasFitted) {
      this.hasFitted = true;
      this.setView('iso');
    } else {
      this.updateClipPlane();
      this.requestRender();
    }
  }

  setReference(mesh: PreviewMesh | null): void {
    this.disposeChildren(this.referenceGroup);
    this.referenceMesh = undefined;
    this.referenceEdges = undefined;
    if (mesh) {
      this.referenceMesh = new Mesh(meshGeometry(mesh), this.referenceMaterial);
      this.referenceMesh.renderOrder = 2;
      this.referenceEdges = new LineSegments(edgeGeometry(mesh), this.referenceEdgeMaterial);
      this.referenceEdges.renderOrder = 3;
      this.referenceGroup.add(this.referenceMesh, this.referenceEdges);
    }
    this.applyToggles();
    if (!this.hasFitted && mesh) {
      this.hasFitted = true;
      this.setView('iso');
    }
    this.requestRender();
  }

  /** Where the IoU protocol put the reference, in the candidate's coordinates (undefined: unknown, drawn where it is). */
  setReferencePlacement(placement: Affine | undefined): void {
    this.referencePlacement = placement;
    this.placeReference();
    this.requestRender();
  }

  /** The frame the ghost is drawn in: the protocol's placement, or raw. */
  get referenceFrame(): 'placed' | 'raw' {
    return this.referencePlacement && !this.toggles.rawFrame ? 'placed' : 'raw';
  }

  /** The ghost's bounding box as drawn (null without a reference). */
  referenceBox(): BoundingBox | null {
    if (!this.referenceMesh) return null;
    this.referenceGroup.updateMatrixWorld(true);
    // Precise: from the vertices, not the transformed corners of each geometry's box (a turned box is larger).
    const box = new Box3().setFromObject(this.referenceGroup, true);
    return box.isEmpty() ? null : [box.min.x, box.min.y, box.min.z, box.max.x, box.max.y, box.max.z];
  }

  setToggle(name: ToggleName, on: boolean): void {
    this.toggles[name] = on;
    this.applyToggles();
  }

  setClip(axis: ClipAxis, fraction: number, flipped: boolean): void {
    this.clipAxis = axis;
    this.clipFraction = Math.min(1, Math.max(0, fraction));
    this.clipFlipped = flipped;
    this.updateClipPlane();
    this.requestRender();
  }

  setView(view: CameraView): void {
    const sphere = this.boundingSphere();
    const direction =
      view === 'fit'
        ? this.camera.position
            .clone()
            .sub(this.controls?.target ?? new Vector3())
            .normalize()
        : VIEW_DIRECTIONS[view].clone();
    if (!(direction.lengthSq() > 0)) direction.copy(VIEW_DIRECTIONS.iso);
    const radius = Math.max(sphere.radius, 1e-6);
    const fov = (this.camera.fov * Math.PI) / 180;
    const fitFov = this.camera.aspect < 1 ? 2 * Math.atan(Math.tan(fov / 2) * this.camera.aspect) : fov;
    const distance = (radius / Math.sin(fitFov / 2)) * 1.08;
    this.camera.position.copy(sphere.center).addScaledVector(direction, distance);
    this.camera.near = distance / 100;
    this.camera.far = distance * 100;
    this.camera.updateProjectionMatrix();
    this.camera.lookAt(sphere.center);
    if (this.controls) {
      this.controls.target.copy(sphere.center);
      this.controls.update();
    }
    this.lastView = view === 'fit' ? this.lastView : view;
    this.requestRender();
  }

  /** Re-reads the VS Code theme (colours arrive as CSS variables on <body>). */
  applyTheme(): void {
    const palette = themePalette();
    this.shapeMaterial.color.copy(palette.shape);
    this.capMaterial.color.copy(palette.cap);
    this.edgeMaterial.color.copy(palette.edges);
    this.referenceMaterial.color.copy(palette.reference);
    this.referenceEdgeMaterial.color.copy(palette.reference);
    this.requestRender();
  }

  requestRender(): void {
    if (this.renderQueued || !this.renderer) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render(): void {
    const r = this.renderer;
    if (!r) return;
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    r.setViewport(0, 0, width, height);
    r.setScissorTest(false);
    r.clear();
    r.render(this.scene, this.camera);
    // Axes triad in the lower-left corner, turning with the camera.
    const size = Math.min(96, Math.floor(Math.min(width, height) / 4));
    if (size > 24) {
      const offset = this.camera.position
        .clone()
        .sub(this.controls?.target ?? new Vector3())
        .normalize()
        .multiplyScalar(4);
      this.triadCamera.position.copy(offset);
      this.triadCamera.up.copy(this.camera.up);
      this.triadCamera.lookAt(0, 0, 0);
      r.clearDepth();
      r.setScissorTest(true);
      r.setScissor(8, 8, size, size);
      r.setViewport(8, 8, size, size);
      r.render(this.triadScene, this.triadCamera);
      r.setScissorTest(false);
    }
  }

  private resize(): void {
    if (!this.renderer) return;
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    // Until the user moves the camera, keep the part framed as the panel changes size.
    if (this.hasFitted && this.lastView !== 'custom') this.setView(this.lastView);
    this.requestRender();
  }

  private applyToggles(): void {
    const t = this.toggles;
    this.shapeMaterial.wireframe = t.wireframe;
    this.shapeMaterial.transparent = t.transparent;
    this.shapeMaterial.opacity = t.transparent ? 0.35 : 1;
    this.shapeMaterial.depthWrite = !t.transparent;
    this.shapeMaterial.side = t.clip ? DoubleSide : FrontSide;
    const planes = t.clip ? [this.clipPlane] : [];
    for (const m of [this.shapeMaterial, this.capMaterial, this.edgeMaterial, this.referenceMaterial, this.referenceEdgeMaterial]) {
      m.clippingPlanes = planes;
      m.needsUpdate = true;
    }
    if (this.shapeEdges) this.shapeEdges.visible = t.edges;
    // The back faces seen through the cut, drawn flat, read as the section's cap.
    if (this.shapeCap) this.shapeCap.visible = t.clip && !t.wireframe && !t.transparent;
    this.referenceGroup.visible = t.reference;
    this.placeReference();
    this.updateClipPlane();
    this.requestRender();
  }

  private placeReference(): void {
    const p = this.referenceFrame === 'placed' ? this.referencePlacement : undefined;
    const m = p?.matrix;
    const t = p?.translation;
    if (m && t) this.referenceGroup.matrix.copy(new Matrix4().set(m[0], m[1], m[2], t[0], m[3], m[4], m[5], t[1], m[6], m[7], m[8], t[2], 0, 0, 0, 1));
    else this.referenceGroup.matrix.identity();
    this.referenceGroup.matrixWorldNeedsUpdate = true;
  }

  private updateClipPlane(): void {
    const box = new Box3().setFromObject(this.shapeGroup);
    if (box.isEmpty()) box.setFromObject(this.referenceGroup);
    if (box.isEmpty()) return;
    const axisIndex = { x: 0, y: 1, z: 2 }[this.clipAxis];
    const min = box.min.getComponent(axisIndex);
    const max = box.max.getComponent(axisIndex);
    const at = min + (max - min) * this.clipFraction;
    const normal = new Vector3().setComponent(axisIndex, this.clipFlipped ? 1 : -1);
    // Plane keeps points with normal·p + constant ≥ 0: the side below `at` (or above when flipped).
    this.clipPlane.set(normal, this.clipFlipped ? -at : at);
  }

  private boundingSphere(): Sphere {
    const box = new Box3();
    if (this.shapeMesh) box.expandByObject(this.shapeGroup);
    if (this.referenceMesh && this.toggles.reference) box.expandByObject(this.referenceGroup);
    if (box.isEmpty()) return new Sphere(new Vector3(), 1);
    return box.getBoundingSphere(new Sphere());
  }

  private buildTriad(): void {
    const axes: [Vector3, string, number][] = [
      [new Vector3(1, 0, 0), 'X', 0xe5534b],
      [new Vector3(0, 1, 0), 'Y', 0x57ab5a],
      [new Vector3(0, 0, 1), 'Z', 0x539bf5],
    ];
    for (const [dir, label, color] of axes) {
      const geometry = new BufferGeometry().setAttribute('position', new BufferAttribute(new Float32Array([0, 0, 0, dir.x, dir.y, dir.z]), 3));
      this.triad.add(new LineSegments(geometry, new LineBasicMaterial({ color })));
      const sprite = new Sprite(new SpriteMaterial({ map: labelTexture(label, color), depthTest: false }));
      sprite.position.copy(dir).multiplyScalar(1.3);
      sprite.scale.setScalar(0.55);
      this.triad.add(sprite);
    }
    this.triadScene.add(this.triad);
  }

  private disposeChildren(group: Object3D): void {
    for (const child of [...group.children]) {
      group.remove(child);
      const geometry = (child as Mesh).geometry as BufferGeometry | undefined;
      // Cap and face meshes share one geometry; disposing twice is harmless.
      geometry?.dispose();
    }
    if (group === this.shapeGroup) {
      this.shapeMesh = undefined;
      this.shapeCap = undefined;
      this.shapeEdges = undefined;
    }
  }
}

function meshGeometry(mesh: PreviewMesh): BufferGeometry {
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new BufferAttribute(asFloat32(mesh.positions), 3));
  if (mesh.normals && mesh.normals.length === mesh.positions.length) geometry.setAttribute('normal', new BufferAttribute(asFloat32(mesh.normals), 3));
  geometry.setIndex(new BufferAttribute(asUint32(mesh.indices), 1));
  if (!geometry.getAttribute('normal')) geometry.computeVertexNormals();
  geometry.computeBoundingSphere();
  return geometry;
}

function edgeGeometry(mesh: PreviewMesh): BufferGeometry {
  return new BufferGeometry().setAttribute('position', new BufferAttribute(asFloat32(mesh.edges ?? new Float32Array(0)), 3));
}

/** postMessage may hand over plain arrays or objects with numeric keys on older hosts: normalise. */
function asFloat32(a: ArrayLike<number> | Record<string, number>): Float32Array {
  if (a instanceof Float32Array) return a;
  return Float32Array.from(Array.isArray(a) || ArrayBuffer.isView(a) ? (a as ArrayLike<number>) : Object.values(a));
}
function asUint32(a: ArrayLike<number> | Record<string, number>): Uint32Array {
  if (a instanceof Uint32Array) return a;
  return Uint32Array.from(Array.isArray(a) || ArrayBuffer.isView(a) ? (a as ArrayLike<number>) : Object.values(a));
}

function labelTexture(text: string, color: number): CanvasTexture {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const g = canvas.getContext('2d')!;
  g.font = 'bold 44px sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillStyle = `#${color.toString(16).padStart(6, '0')}`;
  g.fillText(text, 32, 34);
  return new CanvasTexture(canvas);
}

function cssColor(name: string, fallback: string): Color {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  try {
    // Theme colours may carry alpha (#rrggbbaa), which three.js does not parse.
    return new Color(!value ? fallback : value.startsWith('#') ? value.slice(0, 7) : value);
  } catch {
    return new Color(fallback);
  }
}

function themePalette(): Palette {
  const kind = document.body.classList.contains('vscode-light') ? 'light' : document.body.classList.contains('vscode-high-contrast') ? 'hc' : 'dark';
  const accent = cssColor('--vscode-charts-orange', '#d18616');
  if (kind === 'light') return { shape: new Color('#8fb0d6'), edges: new Color('#1f2a37'), cap: new Color('#c9a227'), reference: accent };
  if (kind === 'hc')
    return { shape: new Color('#c0c0c0'), edges: cssColor('--vscode-contrastBorder', '#ffffff'), cap: new Color('#ffd700'), reference: accent };
  return { shape: new Color('#8aa9cf'), edges: new Color('#10151c'), cap: new Color('#d9b44a'), reference: accent };
}
