#include "core/stream.h"

#include <cstring>

#include "core/utf8.h"

namespace tce {

const char kMalformedEvent[] = "malformed SSE event: data is not valid JSON";

void Stream::Account(uint32_t n) {
  r_.chunk_times.push_back(last_time_);
  r_.chunk_tokens.push_back(n);
}

void Stream::Feed(const char* p, size_t n, double time_ms) {
  last_time_ = time_ms;
  if (mode_ == Mode::kText) {
    raw_text_.append(p, n);
    if (n > 0) Account(1);
    return;
  }
  pending_ = 0;
  Lines(p, n);
  if (pending_ > 0) Account(pending_);
}

void Stream::Lines(const char* p, size_t n) {
  const char* end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!nl) {
      line_.append(p, static_cast<size_t>(end - p));
      return;
    }
    if (line_.empty()) {
      OnLine(p, static_cast<size_t>(nl - p));  // whole line inside this chunk: no copy
    } else {
      line_.append(p, static_cast<size_t>(nl - p));
      std::string l;
      l.swap(line_);
      OnLine(l.data(), l.size());
    }
    p = nl + 1;
  }
}

void Stream::OnLine(const char* p, size_t n) {
  if (n > 0 && p[n - 1] == '\r') n--;
  if (n == 0) {
    Dispatch();
    return;
  }
  if (n < 5 || std::memcmp(p, "data:", 5) != 0) return;
  p += 5;
  n -= 5;
  if (n > 0 && *p == ' ') {
    p++;
    n--;
  }
  if (data_lines_++ == 0) data_.assign(p, n);
  else {
    data_.push_back('\n');
    data_.append(p, n);
  }
}

void Stream::Dispatch() {
  if (data_lines_ == 0) return;
  data_lines_ = 0;
  if (data_.empty()) return;
  if (data_ == "[DONE]") {
    r_.saw_done = true;
    return;
  }
  if (!(fast_path_ ? ParseSseEvent(data_.data(), data_.size(), &ev_, &template_) : ParseSseEvent(data_.data(), data_.size(), &ev_))) {
    if (!r_.has_error) {
      r_.has_error = true;
      r_.error_message = kMalformedEvent;
      r_.has_error_type = true;
      r_.error_type = "sse_malformed";
    }
    return;
  }
  if (ev_.is_object) OnEvent();
}

namespace {
std::string Sanitized(const std::string& s) {
  std::string out;
  AppendSanitized(out, s.data(), s.size());
  return out;
}
}  // namespace

void Stream::OnEvent() {
  SseEvent& e = ev_;
  if (e.has_error_key || e.object_is_error) {
    if (r_.has_error) return;
    r_.has_error = true;
    const JValue* src = nullptr;
    const JValue* msg = nullptr;
    const JValue* type = nullptr;
    const JValue* code = nullptr;
    if (e.has_error_key) {
      src = &e.error;
      msg = src->Get("message");
      type = src->Get("type");
      code = src->Get("code");
    } else {
      msg = &e.message;
      type = &e.type;
      code = &e.code;
    }
    if (src && src->kind == JValue::Kind::kString) r_.error_message = Sanitized(src->str);
    else if (msg && msg->kind == JValue::Kind::kString) r_.error_message = Sanitized(msg->str);
    else r_.error_message = "unknown error";
    if (type && type->kind == JValue::Kind::kString) {
      r_.has_error_type = true;
      r_.error_type = Sanitized(type->str);
    }
    if (code && code->kind == JValue::Kind::kNumber) {
      r_.has_error_code = true;
      r_.error_code = std::strtod(code->str.c_str(), nullptr);
    }
    return;
  }
  if (e.usage.IsObject()) {
    const JValue* pt = e.usage.Get("prompt_tokens");
    const JValue* ct = e.usage.Get("completion_tokens");
    if (pt && ct && pt->kind == JValue::Kind::kNumber && ct->kind == JValue::Kind::kNumber) {
      r_.has_usage = true;
      r_.prompt_tokens = std::strtod(pt->str.c_str(), nullptr);
      r_.completion_tokens = std::strtod(ct->str.c_str(), nullptr);
    }
  }
  if (e.has_finish) {
    r_.has_finish = true;
    r_.finish_reason = e.finish_reason;
  }
  bool carried = false;
  if (e.has_content && !e.content.empty()) {
    r_.text += e.content;
    carried = true;
  }
  bool has_r = e.has_reasoning_key ? e.has_reasoning : e.has_reasoning_content;
  const std::string& reasoning = e.has_reasoning_key ? e.reasoning : e.reasoning_content;
  if (has_r && !reasoning.empty()) {
    server_reasoning_ += reasoning;
    carried = true;
  }
  if (e.tool_calls.kind == JValue::Kind::kArray) {
    for (size_t k = 0; k < e.tool_calls.items.size(); k++) {
      const JValue& c = e.tool_calls.items[k];
      if (!c.IsObject()) continue;
      const JValue* idx = c.Get("index");
      double index = idx && idx->kind == JValue::Kind::kNumber ? std::strtod(idx->str.c_str(), nullptr) : static_cast<double>(k);
      ServerSlot* slot = nullptr;
      for (ServerSlot& s : server_)
        if (s.index == index) slot = &s;
      if (!slot) {
        server_.push_back(ServerSlot{index, {}, {}});
        slot = &server_.back();
      }
      const JValue* fn = c.Get("function");
      if (fn && fn->IsObject()) {
        const JValue* name = fn->Get("name");
        const JValue* args = fn->Get("arguments");
        if (name && name->kind == JValue::Kind::kString) AppendSanitized(slot->name, name->str.data(), name->str.size());
        if (args && args->kind == JValue::Kind::kString) AppendSanitized(slot->args, args->str.data(), args->str.size());
      }
      carried = true;
    }
  }
  if (carried) pending_++;
}

void Stream::Finish(StreamResult* out) {
  if (mode_ == Mode::kText) {
    AppendSanitized(r_.text, raw_text_.data(), raw_text_.size());
  } else {
    pending_ = 0;
    if (!line_.empty()) {
      std::string l;
      l.swap(line_);
      OnLine(l.data(), l.size());
    }
    Dispatch();
    if (pending_ > 0) Account(pending_);
  }
  for (const ServerSlot& s : server_) r_.extraction.calls.push_back(ServerCall(s.name, s.args));
  ExtractFromText(r_.text, names_, &r_.extraction);
  r_.extraction.reasoning.insert(0, server_reasoning_);
  *out = std::move(r_);
  r_ = StreamResult();
}

}  // namespace tce
