/**
 * The fields of Docker Engine API documents (v1.41) that Lessor reads or writes — nothing more.
 * Podman's compatible API returns the same shapes.
 */

export interface PortBinding {
  readonly HostIp?: string;
  readonly HostPort?: string;
}

/** Keyed by `"<port>/<protocol>"`; null when the port is exposed but not published. */
export type PortMap = Readonly<Record<string, readonly PortBinding[] | null>>;

/** One published (or only exposed: no `PublicPort`) port of a list summary. */
export interface SummaryPort {
  readonly IP?: string;
  readonly PrivatePort: number;
  readonly PublicPort?: number;
  /** `tcp` or `udp`. */
  readonly Type?: string;
}

export interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[];
  readonly Image?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  /** `created`, `running`, `exited`, … */
  readonly State?: string;
  /** Unix seconds. */
  readonly Created?: number;
  readonly Ports?: readonly SummaryPort[] | null;
}

export interface ContainerInspect {
  readonly Id: string;
  /** With a leading slash. */
  readonly Name: string;
  readonly Created?: string;
  readonly State: {
    readonly Status?: string;
    readonly Running?: boolean;
    readonly ExitCode?: number;
    readonly OOMKilled?: boolean;
  };
  readonly Config: {
    readonly Image?: string;
    readonly Labels?: Readonly<Record<string, string>> | null;
    /** With a TTY the log stream is raw output, not multiplexed frames. */
    readonly Tty?: boolean;
  };
  readonly HostConfig?: {
    readonly NetworkMode?: string;
  };
  readonly NetworkSettings?: {
    readonly Ports?: PortMap | null;
  };
}

export interface ImageInspect {
  readonly Id: string;
}

export interface NetworkInspect {
  readonly Id?: string;
  readonly Name?: string;
}

export interface ContainerCreateBody {
  readonly Image: string;
  readonly Cmd?: readonly string[];
  readonly Env: readonly string[];
  readonly Labels: Readonly<Record<string, string>>;
  readonly ExposedPorts: Readonly<Record<string, Record<string, never>>>;
  readonly HostConfig: {
    readonly PortBindings: Readonly<Record<string, readonly PortBinding[]>>;
    readonly RestartPolicy: { readonly Name: string; readonly MaximumRetryCount?: number };
    readonly NanoCpus?: number;
    readonly Memory?: number;
    readonly NetworkMode?: string;
    readonly Binds?: readonly string[];
  };
}
