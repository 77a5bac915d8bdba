// Thin node-addon-api binding: converts arguments and forwards to the plain
// C++ core in native/src/core (which knows nothing about N-API).
#include <napi.h>

#ifndef TCE_NATIVE_VERSION
#define TCE_NATIVE_VERSION "0.1.0"
#endif

namespace {

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TCE_NATIVE_VERSION);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tce_native, Init)
