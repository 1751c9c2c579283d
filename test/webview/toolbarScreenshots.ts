// Screenshots of the webview toolbar in VS Code's Dark Modern and Light Modern themes, for
// review by eye: `npx tsx test/webview/toolbarScreenshots.ts after` writes
// test-output/toolbar/after-dark.png and after-light.png (the argument is the name prefix).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, launchChromium, openHarness, syntheticVolume, type Harness } from './harness';

/** A subset of the --vscode-* variables VS Code sets on <html>, with the body class it sets. */
export const THEMES = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-editorGroup-border': '#ffffff17',
      '--vscode-widget-border': '#313131',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-sideBar-background': '#181818',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-input-background': '#313131',
      '--vscode-input-foreground': '#cccccc',
      '--vscode-input-border': '#3c3c3c',
      '--vscode-dropdown-background': '#313131',
      '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-dropdown-border': '#3c3c3c',
      '--vscode-checkbox-background': '#313131',
      '--vscode-checkbox-border': '#3c3c3c',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-toolbar-hoverBackground': '#5a5d5e50',
      '--vscode-inputOption-activeBackground': '#2489db82',
      '--vscode-inputOption-activeBorder': '#2488db',
      '--vscode-inputOption-activeForeground': '#ffffff',
      '--vscode-icon-foreground': '#cccccc',
      '--vscode-statusBar-background': '#181818',
      '--vscode-statusBar-foreground': '#cccccc',
      '--vscode-editorInfo-foreground': '#3794ff',
      '--vscode-inputValidation-warningBackground': '#352a05',
      '--vscode-inputValidation-warningBorder': '#b89500',
      '--vscode-errorForeground': '#f85149',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-editorGroup-border': '#e5e5e5',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-sideBar-background': '#f8f8f8',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-input-background': '#ffffff',
      '--vscode-input-foreground': '#3b3b3b',
      '--vscode-input-border': '#cecece',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-dropdown-border': '#cecece',
      '--vscode-checkbox-background': '#f8f8f8',
      '--vscode-checkbox-border': '#cecece',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-toolbar-hoverBackground': '#b8b8b850',
      '--vscode-inputOption-activeBackground': '#bed6ed',
      '--vscode-inputOption-activeBorder': '#005fb8',
      '--vscode-inputOption-activeForeground': '#000000',
      '--vscode-icon-foreground': '#3b3b3b',
      '--vscode-statusBar-background': '#f8f8f8',
      '--vscode-statusBar-foreground': '#3b3b3b',
      '--vscode-editorInfo-foreground': '#1a85ff',
      '--vscode-inputValidation-warningBackground': '#f6f5d2',
      '--vscode-inputValidation-warningBorder': '#b89500',
      '--vscode-errorForeground': '#f85149',
    },
  },
} as const;

export type ThemeKind = keyof typeof THEMES;

/** Applies a theme the way VS Code does: variables on <html>, a class on <body>. */
export async function applyTheme(h: Harness, kind: ThemeKind): Promise<void> {
  const theme = THEMES[kind];
  await h.page.evaluate(({ bodyClass, vars }) => {
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
    document.body.classList.add(bodyClass);
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    (window as unknown as { lesionLab: { viewer: { layoutViews(): void } } }).lesionLab.viewer.layoutViews();
  }, theme);
}

async function main(prefix: string): Promise<void> {
  const dir = join(REPO, 'test-output', 'toolbar');
  mkdirSync(dir, { recursive: true });
  const browser = await launchChromium();
  try {
    for (const kind of Object.keys(THEMES) as ThemeKind[]) {
      const h = await openHarness(browser, { width: 1280, height: 600 });
      await applyTheme(h, kind);
      await h.load(syntheticVolume([64, 64, 40], [1, 1, 1.5]));
      // The brush shows the most tool options; focus one control to show the focus ring.
      await h.page.evaluate(() => (window as unknown as { lesionLab: { viewer: { setTool(t: string): void } } }).lesionLab.viewer.setTool('brush'));
      await h.page.keyboard.press('Tab');
      await h.settle();
      await h.page.waitForTimeout(300);
      await h.page.screenshot({ path: join(dir, `${prefix}-${kind}.png`) });
      await h.close();
    }
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main(process.argv[2] ?? 'after').catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
