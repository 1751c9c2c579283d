// Lesion Lab webview entry (placeholder until the viewer lands).
export {};
