#include "auditship/redact/redact_config.h"

#include <set>

#include "auditship/redact/detectors.h"

namespace auditship::redact {

void RedactConfig::validate(config::Checker& check) const {
  for (std::size_t i = 0; i < disable.size(); ++i)
    if (!is_builtin_detector(disable[i])) {
      std::string known;
      std::vector<std::string> names;
      for (const auto& d : builtin_detectors()) {
        known += (known.empty() ? "" : ", ") + d.name;
        names.emplace_back(d.name);
      }
      check.fail("disable", "unknown built-in detector '" + disable[i] + "'" + config::did_you_mean(disable[i], names) +
                                " (known: " + known + ")");
    }
  std::set<std::string> names;
  for (std::size_t i = 0; i < custom.size(); ++i) {
    const CustomDetectorConfig& c = custom[i];
    std::string at = "custom[" + std::to_string(i) + "]";
    if (c.name.empty()) check.fail(at + ".name", "is required");
    else if (is_builtin_detector(c.name)) check.fail(at + ".name", "'" + c.name + "' is a built-in detector name");
    else if (!names.insert(c.name).second) check.fail(at + ".name", "detector '" + c.name + "' is defined twice");
    Validator v;
    if (!parse_validator(c.validator, v))
      check.fail(at + ".validator", "detector '" + c.name + "': must be none, luhn, mod97 or ssn, got '" + c.validator + "'");
    if (c.pattern.empty()) {
      check.fail(at + ".pattern", "detector '" + c.name + "': is required");
    } else if (Status s = check_pattern(c.pattern); !s) {
      check.fail(at + ".pattern", "detector '" + c.name + "': Hyperscan cannot compile it: " + s.error());
    }
  }
  for (const auto& [path, policy] : fields) {
    if (policy != "redact" && policy != "keep" && policy != "drop" && policy != "hash")
      check.fail("fields." + path, "policy must be redact, keep, drop or hash, got '" + policy + "'");
    if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos)
      check.fail("fields." + path, "a path is member names joined by '.', e.g. metadata.contact");
  }
  // The key itself is read at startup (it may only exist in the service's environment); with
  // none configured the agent uses its generated <state_dir>/hash.key (see hash_key.h).
}

}  // namespace auditship::redact
