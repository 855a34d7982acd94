/**
 * Secrets live only in VS Code's SecretStorage (the OS keychain): the OpenAI-compatible endpoint's
 * API key and remembered SSH key passphrases. Never in settings, logs, exports or run records.
 */
import * as vscode from 'vscode';
import { log } from './log';
import { fail, type CommandOutcome } from './outcome';

const OPENAI_KEY = 'gift.openai.apiKey';
const PASSPHRASE_PREFIX = 'gift.train.passphrase:';

export class GiftSecrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  openAiKey(): Thenable<string | undefined> {
    return this.storage.get(OPENAI_KEY);
  }

  async setOpenAiKey(key: string): Promise<void> {
    await this.storage.store(OPENAI_KEY, key);
  }

  async clearOpenAiKey(): Promise<void> {
    await this.storage.delete(OPENAI_KEY);
  }

  /** A cluster profile's remembered SSH key passphrase (keyed by the profile's label). */
  passphrase(profileLabel: string): Thenable<string | undefined> {
    return this.storage.get(PASSPHRASE_PREFIX + profileLabel);
  }

  async rememberPassphrase(profileLabel: string, passphrase: string): Promise<void> {
    await this.storage.store(PASSPHRASE_PREFIX + profileLabel, passphrase);
  }

  async forgetPassphrase(profileLabel: string): Promise<void> {
    await this.storage.delete(PASSPHRASE_PREFIX + profileLabel);
  }

  /** `GIFT: Set API Key…`: a password box, or the key as the argument (for scripts and tests). */
  async setApiKeyCommand(arg?: unknown): Promise<CommandOutcome> {
    let key = typeof arg === 'string' ? arg : undefined;
    if (key === undefined) {
      key = await vscode.window.showInputBox({
        title: 'GIFT: API key for the OpenAI-compatible endpoint',
        prompt: 'Stored in the OS keychain (VS Code SecretStorage), never in settings. Sent as "Authorization: Bearer …" to gift.openai.endpoint.',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (/\s/.test(v.trim()) ? 'an API key has no spaces' : v.trim() ? undefined : 'empty: use GIFT: Clear API Key to remove the key'),
      });
    }
    if (key === undefined) return { ok: false, message: 'no key entered' };
    key = key.trim();
    if (!key) return fail('Set API Key: the key is empty (use GIFT: Clear API Key to remove it).');
    await this.setOpenAiKey(key);
    log().info('API key for the OpenAI-compatible endpoint stored in SecretStorage');
    if (typeof arg !== 'string') void vscode.window.showInformationMessage('GIFT: API key stored in the OS keychain.');
    return { ok: true };
  }

  async clearApiKeyCommand(): Promise<CommandOutcome> {
    const had = (await this.openAiKey()) !== undefined;
    await this.clearOpenAiKey();
    const message = had ? 'GIFT: the API key for the OpenAI-compatible endpoint was removed.' : 'GIFT: no API key was stored; nothing to remove.';
    log().info(message);
    void vscode.window.showInformationMessage(message);
    return { ok: true, detail: had ? 'removed' : 'none stored' };
  }
}
