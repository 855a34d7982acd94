/**
 * The "Dataset" view in the GIFT activity bar: collections (with counts) → samples (the image as
 * the icon, IoU as the description). Samples can be dragged between collections; the drop is
 * handed to `onDrop`, which applies the same SRS/FDA rules as the move commands.
 */
import * as vscode from 'vscode';
import type { DatasetRecord } from '../../core/dataset';
import { DEFAULT_COLLECTIONS, formatWarning } from '../../core/dataset';
import type { DatasetService } from './service';
import { log } from '../log';
import { errorMessage } from '../../core/errors';

export const DATASET_VIEW_ID = 'gift.dataset';
/** VS Code's MIME type for drags inside this tree (the view id, lower-cased). */
export const DATASET_DRAG_MIME = 'application/vnd.code.tree.gift.dataset';
/** Samples listed per collection before a "Show more" row (thousands of thumbnails are slow to draw). */
export const PAGE_SIZE = 500;

export type DatasetNode =
  | { kind: 'collection'; name: string; count: number }
  | { kind: 'sample'; record: DatasetRecord }
  | { kind: 'more'; collection: string; shown: number; total: number };

const COLLECTION_ICONS: Record<string, string> = { sft: 'database', srs: 'pass', fda: 'beaker' };
const COLLECTION_HINTS: Record<string, string> = {
  sft: 'base image–code pairs',
  srs: 'new code for a known image (τ_valid ≤ IoU < τ_match)',
  fda: 'a near miss rendered as a new image, with the ground-truth code (τ_low ≤ IoU < τ_valid)',
};

export class DatasetTreeProvider implements vscode.TreeDataProvider<DatasetNode>, vscode.TreeDragAndDropController<DatasetNode>, vscode.Disposable {
  readonly dragMimeTypes = [DATASET_DRAG_MIME];
  readonly dropMimeTypes = [DATASET_DRAG_MIME];
  private readonly changeEmitter = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly collectionNodes = new Map<string, DatasetNode & { kind: 'collection' }>();
  private readonly limits = new Map<string, number>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly service: DatasetService,
    /** Moves records to a collection (the controller's drop); resolves when done or refused. */
    private readonly onDrop: (ids: string[], collection: string) => Promise<unknown>,
  ) {
    this.subscription = service.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  /** Shows the next page of a collection. */
  showMore(collection: string): void {
    this.limits.set(collection, (this.limits.get(collection) ?? PAGE_SIZE) + PAGE_SIZE);
    this.changeEmitter.fire(this.collectionNodes.get(collection));
  }

  async getChildren(element?: DatasetNode): Promise<DatasetNode[]> {
    const ds = this.service.current ?? (await this.service.restore());
    // No children at the root shows the view's welcome content (open / import / create).
    if (!ds) return [];
    try {
      if (!element) {
        // The GIFT loop's order (sft → srs → fda), then the user's collections by name.
        const rank = (name: string) => {
          const i = (DEFAULT_COLLECTIONS as readonly string[]).indexOf(name);
          return i < 0 ? DEFAULT_COLLECTIONS.length : i;
        };
        const collections = (await ds.collections()).sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
        this.collectionNodes.clear();
        const nodes = collections.map((c) => {
          const node = { kind: 'collection' as const, name: c.name, count: c.count };
          this.collectionNodes.set(c.name, node);
          return node;
        });
        return nodes;
      }
      if (element.kind !== 'collection') return [];
      const { records, warnings } = await ds.list(element.name);
      for (const w of warnings) log().warn(formatWarning(w));
      const limit = this.limits.get(element.name) ?? PAGE_SIZE;
      const nodes: DatasetNode[] = records.slice(0, limit).map((record) => ({ kind: 'sample', record }));
      if (records.length > limit) nodes.push({ kind: 'more', collection: element.name, shown: limit, total: records.length });
      return nodes;
    } catch (e) {
      log().error(`reading the dataset ${ds.dir}: ${errorMessage(e)}`);
      void vscode.window.showErrorMessage(`GIFT dataset: ${errorMessage(e)}`);
      return [];
    }
  }

  getParent(element: DatasetNode): DatasetNode | undefined {
    if (element.kind === 'sample') return this.collectionNodes.get(element.record.collection);
    if (element.kind === 'more') return this.collectionNodes.get(element.collection);
    return undefined;
  }

  getTreeItem(element: DatasetNode): vscode.TreeItem {
    if (element.kind === 'collection') return this.collectionItem(element);
    if (element.kind === 'more') {
      const item = new vscode.TreeItem(`Show more (${element.shown} of ${element.total})`, vscode.TreeItemCollapsibleState.None);
      item.id = `more:${element.collection}`;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: 'gift.dataset.showMore', title: 'Show more', arguments: [element.collection] };
      return item;
    }
    return this.sampleItem(element.record);
  }

  async handleDrag(source: readonly DatasetNode[], dataTransfer: vscode.DataTransfer): Promise<void> {
    const ids = source.filter((n): n is DatasetNode & { kind: 'sample' } => n.kind === 'sample').map((n) => n.record.id);
    if (ids.length) dataTransfer.set(DATASET_DRAG_MIME, new vscode.DataTransferItem(ids));
  }

  /** Drops samples on a collection (or on a sample, meaning its collection). */
  async handleDrop(target: DatasetNode | undefined, dataTransfer: vscode.DataTransfer, token?: vscode.CancellationToken): Promise<void> {
    const collection = target?.kind === 'collection' ? target.name : target?.kind === 'sample' ? target.record.collection : target?.collection;
    if (!collection || token?.isCancellationRequested) return;
    const ids = await idsFromTransfer(dataTransfer.get(DATASET_DRAG_MIME));
    if (ids.length) await this.onDrop(ids, collection);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }

  private collectionItem(node: DatasetNode & { kind: 'collection' }): vscode.TreeItem {
    const item = new vscode.TreeItem(node.name, node.count ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `collection:${node.name}`;
    item.description = String(node.count);
    item.tooltip = `${node.name}: ${node.count} sample${node.count === 1 ? '' : 's'}${COLLECTION_HINTS[node.name] ? ` — ${COLLECTION_HINTS[node.name]}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(COLLECTION_ICONS[node.name] ?? 'folder');
    item.contextValue = `collection:${node.name}`;
    return item;
  }

  private sampleItem(record: DatasetRecord): vscode.TreeItem {
    const ds = this.service.current;
    const item = new vscode.TreeItem(record.id, vscode.TreeItemCollapsibleState.None);
    item.id = `sample:${record.id}`;
    item.description = record.iou === null ? '' : `IoU ${record.iou.toFixed(4)}`;
    if (ds) item.iconPath = vscode.Uri.file(ds.imagePath(record));
    item.tooltip = sampleTooltip(record, ds ? vscode.Uri.file(ds.imagePath(record)) : undefined);
    item.contextValue = `sample:${record.collection}`;
    item.command = { command: 'gift.dataset.openSample', title: 'Open Sample', arguments: [{ kind: 'sample', record } satisfies DatasetNode] };
    item.accessibilityInformation = { label: `${record.id} in ${record.collection}${record.iou === null ? '' : `, IoU ${record.iou.toFixed(4)}`}` };
    return item;
  }
}

/** The sample's fields, and its image at a readable size (the tree's icon is 16 px). */
export function sampleTooltip(record: DatasetRecord, image?: vscode.Uri): vscode.MarkdownString {
  const rows: [string, string][] = [
    ['id', record.id],
    ['collection', record.collection],
    ['source', record.source ?? '—'],
    ['IoU', record.iou === null ? '—' : `${record.iou.toFixed(4)}${record.protocol ? ` (${record.protocol})` : ''}`],
    ['model', record.model ?? '—'],
    ['created', record.created],
  ];
  const md = new vscode.MarkdownString(rows.map(([k, v]) => `**${k}** ${escapeMarkdown(v)}`).join('  \n'));
  md.supportThemeIcons = false;
  if (image) {
    md.supportHtml = true;
    md.appendMarkdown(`\n\n<img src="${image.toString()}" width="240" alt="${escapeMarkdown(record.id)}">`);
  }
  return md;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

async function idsFromTransfer(item: vscode.DataTransferItem | undefined): Promise<string[]> {
  if (!item) return [];
  // Inside this window the item keeps the array handleDrag put in; otherwise it arrives as text.
  let value: unknown = item.value;
  if (typeof value === 'string' || value === undefined) {
    const text = await item.asString();
    try {
      value = JSON.parse(text);
    } catch {
      value = text.split(/\r?\n/);
    }
  }
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}
