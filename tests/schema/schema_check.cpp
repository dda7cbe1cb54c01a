// nonaxis-schema-check SCHEMA_DIR DEVIATIONS SCHEMA_FILE JSON_FILE...
// Validates each JSON file (or each line of a .jsonl file) against a spec schema
// with valijson, after applying the documented deviation patches. Exit 1 on any
// invalid document, printing every error. Test-only: runtime checks live in bus/.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

using nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json load_schema(const std::string& dir, const json& deviations, const std::string& name) {
  json s = json::parse(slurp(dir + "/" + name));
  if (deviations.contains(name)) s = s.patch(deviations[name]);
  // Inline the one cross-file $ref (decision -> execution token).
  if (s.contains("properties") && s["properties"].contains("payload") &&
      s["properties"]["payload"]["properties"].contains("token")) {
    s["properties"]["payload"]["properties"]["token"] = load_schema(dir, deviations, "execution-token.schema.json");
  }
  s.erase("$schema");
  s.erase("$id");
  return s;
}

bool validate(const valijson::Schema& schema, const json& doc, const std::string& where) {
  valijson::Validator v;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  if (v.validate(schema, adapter, &results)) return true;
  valijson::ValidationResults::Error err;
  while (results.popError(err)) {
    std::string ctx;
    for (const auto& c : err.context) ctx += c;
    std::cerr << where << ": " << ctx << ": " << err.description << "\n";
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: nonaxis-schema-check SCHEMA_DIR DEVIATIONS SCHEMA_FILE JSON_FILE...\n";
    return 2;
  }
  const json deviations = json::parse(slurp(argv[2]));
  const json schema_doc = load_schema(argv[1], deviations, argv[3]);
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  bool ok = true;
  std::size_t count = 0;
  for (int i = 4; i < argc; ++i) {
    const std::string path = argv[i];
    const std::string text = slurp(path);
    if (path.size() > 6 && path.substr(path.size() - 6) == ".jsonl") {
      std::istringstream lines(text);
      std::string line;
      int n = 0;
      while (std::getline(lines, line)) {
        ++n;
        ok = validate(schema, json::parse(line), path + ":" + std::to_string(n)) && ok;
        ++count;
      }
    } else {
      ok = validate(schema, json::parse(text), path) && ok;
      ++count;
    }
  }
  std::cout << (ok ? "valid" : "INVALID") << ": " << count << " documents against " << argv[3] << "\n";
  return ok ? 0 : 1;
}
