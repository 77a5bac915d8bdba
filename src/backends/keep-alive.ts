// Idle keep-alive on both ends. vLLM's uvicorn closes a connection idle for
// VLLM_HTTP_TIMEOUT_KEEP_ALIVE seconds (default 5, vllm/envs.py) and sends no
// Keep-Alive hint; a client that keeps idle sockets longer sends requests on
// sockets the server is closing, and they fail. So the client's idle timeout
// stays below vLLM's default (for servers tce did not start), and the
// servers tce spawns get a much longer one.
export const CLIENT_KEEP_ALIVE_MS = 4_000;
export const SERVER_KEEP_ALIVE_S = 75;
