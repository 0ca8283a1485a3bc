#include "apps/edgecap/preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/capture/pcap_file.h"

namespace edgecap::app {

absl::StatusOr<Input> CheckCaptures(const std::vector<std::string>& files) {
  Input in;
  for (size_t i = 0; i < files.size(); ++i) {
    absl::StatusOr<capture::PcapFile> f = capture::PcapFile::Open(files[i]);
    if (!f.ok()) return f.status();
    if (i == 0) {
      in.link = f->link_type();
    } else if (f->link_type() != in.link) {
      return absl::InvalidArgumentError(absl::StrCat(
          files[i], ": link type ", static_cast<int>(f->link_type()),
          " differs from ", files[0], "'s ", static_cast<int>(in.link)));
    }
    // The record count tells the pipeline when a queue is drained (net_pcap
    // just returns nothing at end of file) and gives the progress its share.
    const capture::Census census = f->Count();
    in.max_frame = std::max(in.max_frame, census.max_frame);
    // A cut or corrupt record still lets us analyse the ones before it (what
    // an operator wants from a capture cut by a full disk): warn, go on.
    if (!census.status.ok()) {
      std::fprintf(stderr,
                   "edgecap: warning: %s; analysing the %llu records before "
                   "it\n",
                   std::string(census.status.message()).c_str(),
                   static_cast<unsigned long long>(census.records));
    }
    in.records.push_back(census.records);
  }
  return in;
}

absl::StatusOr<Plan> PlanDispatch(const Options& o, size_t pcap_files) {
  Plan p;
  if (pcap_files > 1) {
    // One file per RX queue: a NIC's RSS already split the traffic.
    if (o.dispatch == Dispatch::kSoftware) {
      return absl::InvalidArgumentError(
          "several --pcap files are RX queues for --dispatch hw; give one "
          "file for --dispatch sw");
    }
    if (o.workers != 0 && o.workers != pcap_files) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--workers ", o.workers, " with ", pcap_files,
          " --pcap files: hardware dispatch needs one file per worker"));
    }
    p.workers = static_cast<uint16_t>(pcap_files);
    p.hardware = true;
    p.queues = p.workers;
    return p;
  }
  p.workers = o.workers == 0 ? 1 : o.workers;
  if (!o.shortcut || o.dispatch == Dispatch::kHardware) {
    p.hardware = o.dispatch != Dispatch::kSoftware;
  } else {
    // Single-queue vdevs: software dispatch unless one worker polls alone.
    p.hardware = p.workers == 1 && o.dispatch != Dispatch::kSoftware;
  }
  if (o.shortcut && !o.pcap_files.empty() && p.hardware && p.workers > 1) {
    return absl::InvalidArgumentError(
        "--dispatch hw with one --pcap file needs one file per worker: split "
        "it with 'edgecap-gen split FILE --queues N -o PREFIX'");
  }
  p.queues = p.hardware ? p.workers : 1;
  return p;
}

absl::Status CheckWritable(const char* option, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  struct stat st {};
  std::string target = path;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, " ", path, ": is a directory"));
    }
  } else {
    const size_t slash = path.find_last_of('/');
    target = slash == std::string::npos ? "."
             : slash == 0               ? "/"
                                        : path.substr(0, slash);
  }
  if (access(target.c_str(), W_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        option, " ", path, ": cannot write: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace edgecap::app
