export interface ClusterRun {
  system: string;
  rep: number;
}
