#include "gateway/store/sql_connection.h"

namespace acp::store::sql {

void Statement::bind(int index, const SqlArg& a) {
  switch (a.kind) {
    case SqlArg::Kind::kNull:
      bindNull(index);
      break;
    case SqlArg::Kind::kInt:
      bind(index, a.i);
      break;
    case SqlArg::Kind::kReal:
      bind(index, a.d);
      break;
    case SqlArg::Kind::kText:
      bind(index, std::string_view(a.s), /*stable=*/true);
      break;
  }
}

void Statement::bindAll(const std::vector<SqlArg>& args) {
  for (size_t i = 0; i < args.size(); ++i) bind(static_cast<int>(i + 1), args[i]);
}

StepResult Statement::run() {
  StepResult r;
  do {
    r = step();
  } while (r == StepResult::kRow);
  return r;
}

SqlArg Statement::columnArg(int i) const {
  switch (impl_->columnKind(i)) {
    case SqlArg::Kind::kInt:
      return SqlArg::integer(columnInt(i));
    case SqlArg::Kind::kReal:
      return SqlArg::real(columnReal(i));
    case SqlArg::Kind::kNull:
      return SqlArg::null();
    default:
      return SqlArg::text(columnString(i));
  }
}

Result<int64_t> Connection::queryInt(const std::string& sql) {
  auto st = prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  StepResult r = s.step();
  if (r == StepResult::kRow) return s.columnInt(0);
  if (r == StepResult::kDone) return int64_t{0};
  return s.error("query");
}

Result<std::string> Connection::queryText(const std::string& sql) {
  auto st = prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  StepResult r = s.step();
  if (r == StepResult::kRow) return s.columnString(0);
  if (r == StepResult::kDone) return std::string();
  return s.error("query");
}

}  // namespace acp::store::sql
