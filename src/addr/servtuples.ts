/**
 * The service half of getaddrinfo: glibc's table of socket types and protocols, and the
 * (socktype, protocol, port) triples a port or service name expands to. Pure except for the
 * service table.
 *
 * @module
 */
import { argRangeError, checkInt, makeGaiError, show } from "../errors/index.js";
import { getservbyname } from "./services.js";

/** glibc's gaih_inet_typeproto table: which socket types and protocols getaddrinfo knows. */
const TYPEPROTO = [
  { socktype: 1, protocol: 6, any: false, noservice: false, dflt: true, name: "tcp" },
  { socktype: 2, protocol: 17, any: false, noservice: false, dflt: true, name: "udp" },
  { socktype: 6, protocol: 33, any: false, noservice: false, dflt: false, name: "dccp" },
  { socktype: 2, protocol: 136, any: false, noservice: false, dflt: false, name: "udplite" },
  { socktype: 1, protocol: 132, any: false, noservice: false, dflt: false, name: "sctp" },
  { socktype: 5, protocol: 132, any: false, noservice: false, dflt: false, name: "sctp" },
  { socktype: 3, protocol: 0, any: true, noservice: true, dflt: true, name: "raw" },
] as const;
type TypeProto = (typeof TYPEPROTO)[number];

/**
 * A socket type, protocol and port for one getaddrinfo entry.
 * @example `const t: ServTuple = { socktype: SOCK_STREAM, protocol: IPPROTO_TCP, port: 80 };`
 */
export interface ServTuple {
  socktype: number;
  protocol: number;
  port: number;
}

/**
 * The (socktype, protocol, port) triples getaddrinfo returns for a service, as glibc computes
 * them: `type` and `proto` 0 give TCP, UDP and raw for a numeric (or no) port, and every protocol
 * the service is listed for when it is a name; a service with SOCK_RAW is EAI_SERVICE.
 * @throws gaierror EAI_SOCKTYPE / EAI_SERVICE; RangeError for ports above 65535
 * @example `servTuples("domain", 0, 0) // [{ socktype: 1, protocol: 6, port: 53 }, { socktype: 2, protocol: 17, port: 53 }]`
 */
export function servTuples(port: string | number | null, type: number, proto: number): ServTuple[] {
  let tp: TypeProto | undefined;
  if (type !== 0 || proto !== 0) {
    tp = TYPEPROTO.find(
      (e) => (type === 0 || type === e.socktype) && (proto === 0 || e.any || proto === e.protocol),
    );
    if (tp === undefined)
      throw makeGaiError(type !== 0 ? "EAI_SOCKTYPE" : "EAI_SERVICE", { op: "getaddrinfo" });
  }
  let num = 0;
  let name: string | undefined;
  if (typeof port === "number") {
    num = checkInt("port", port, 0, 0xffff);
  } else if (typeof port === "string" && port !== "") {
    if (/^[0-9]+$/.test(port)) {
      num = Number(port);
      if (num > 0xffff) throw argRangeError("port", "0..65535", port);
    } else {
      name = port;
    }
  }
  const hasService = port !== null && port !== "";
  if (hasService && tp?.noservice)
    throw makeGaiError("EAI_SERVICE", { op: "getaddrinfo", address: String(port) });
  if (name !== undefined) {
    const lookup = (e: TypeProto): ServTuple | undefined => {
      try {
        return {
          socktype: e.socktype,
          protocol: e.any ? proto : e.protocol,
          port: getservbyname(name, e.name),
        };
      } catch {
        return undefined;
      }
    };
    const cands = tp !== undefined ? [tp] : TYPEPROTO.filter((e) => !e.noservice);
    const out = cands.map(lookup).filter((t): t is ServTuple => t !== undefined);
    if (out.length === 0) {
      throw makeGaiError("EAI_SERVICE", {
        op: "getaddrinfo",
        address: show(name),
        hint: "unknown service name",
      });
    }
    return out;
  }
  if (tp !== undefined) return [{ socktype: tp.socktype, protocol: tp.any ? proto : tp.protocol, port: num }];
  return TYPEPROTO.filter((e) => e.dflt).map((e) => ({
    socktype: e.socktype,
    protocol: e.protocol,
    port: num,
  }));
}
