/**
 * The model backends Image to CAD and Run Bootstrap can use, by the name the `gift.backend`
 * setting gives. Every backend is core's one ImageToCadBackend (it samples; the pipeline runs and
 * ranks). The real ones (onnx, openai) are in model-backends.ts; others may register through the API.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImageToCadBackend } from '../../core/generate/backend';
import { UserError } from '../../core/errors';

export type { ImageToCadBackend };

/** Thrown by a backend that cannot run here; the message is shown to the user as is. */
export class BackendUnavailableError extends UserError {}

export const NO_BACKEND_MESSAGE =
  'No image-to-CAD model backend is installed yet: GIFT CAD can preview, check and export CadQuery code, but cannot generate it from images until a model backend is added.';

/** Stands in until a real model backend registers. */
export const placeholderBackend: ImageToCadBackend = {
  name: 'none',
  async sample() {
    throw new BackendUnavailableError(NO_BACKEND_MESSAGE);
  },
};

const backends = new Map<string, ImageToCadBackend>();

/** Model backends call this (from the extension's activate or its exported API). */
export function registerImageToCadBackend(backend: ImageToCadBackend): vscode.Disposable {
  backends.set(backend.name, backend);
  return new vscode.Disposable(() => {
    if (backends.get(backend.name) === backend) backends.delete(backend.name);
  });
}

/** The backend `gift.backend` names; 'auto' takes the first registered one. */
export function resolveBackend(name: string): ImageToCadBackend {
  if (name === 'auto' || name === '') return backends.values().next().value ?? placeholderBackend;
  const backend = backends.get(name);
  if (backend) return backend;
  const known = [...backends.keys()];
  throw new BackendUnavailableError(
    `gift.backend is '${name}', but no such model backend is installed (${known.length ? `installed: ${known.join(', ')}` : 'none is installed yet'}).`,
  );
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'bmp'];

export function isImageUri(uri: vscode.Uri): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(uri.path).slice(1).toLowerCase());
}

/** The image the command should use: its argument, the image open in the active tab, or a picked file. */
export async function chooseImage(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri && isImageUri(arg)) return arg;
  const tabInput = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if ((tabInput instanceof vscode.TabInputCustom || tabInput instanceof vscode.TabInputText) && isImageUri(tabInput.uri)) return tabInput.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Image to CAD',
    title: 'Choose an image of a mechanical part',
    filters: { Images: IMAGE_EXTENSIONS },
  });
  return picked?.[0];
}
