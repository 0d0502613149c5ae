export declare const STAMP: string;
export declare const BUNDLE_OUTPUTS: string;
export declare function inputsDigest(root: string): string;
export declare function whyBuild(root: string, digest?: string): string | undefined;
export declare function buildIfChanged(root: string, build: (root: string) => number): number;
