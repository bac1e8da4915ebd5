// The honest HNSW peer: Debian's header-only hnswlib (libhnswlib-dev) compiled here with -O3 -march=native, so its
// distance kernels use the same AVX-512 width .NET gives our index on this CPU (the python3-hnswlib module is built for
// baseline x86-64 and has no AVX at all). Reads the data files compare.py writes, builds once per thread count
// (points added from a shared counter by N threads, as hnswlib's own Python binding does), searches the last build at
// every ef and thread count, and prints one JSON line shaped like the other libraries' results.
//
//   g++ -O3 -march=native -std=c++17 -pthread -o hnswlib_native hnswlib_native.cpp
//   ./hnswlib_native --base base.fbin --queries queries.fbin --truth truth.ibin --m 16 --efc 200 --k 10 --ef 16,32,64 --build-threads 1,2 --search-threads 1,2 --repeats 3 --seed 42
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Matrix {
    int32_t rows = 0, cols = 0;
    std::vector<float> f;
    std::vector<int32_t> i;
};

Matrix read_bin(const std::string& path, bool ints) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    Matrix m;
    in.read(reinterpret_cast<char*>(&m.rows), 4);
    in.read(reinterpret_cast<char*>(&m.cols), 4);
    const size_t n = static_cast<size_t>(m.rows) * m.cols;
    if (ints) {
        m.i.resize(n);
        in.read(reinterpret_cast<char*>(m.i.data()), static_cast<std::streamsize>(n * 4));
    } else {
        m.f.resize(n);
        in.read(reinterpret_cast<char*>(m.f.data()), static_cast<std::streamsize>(n * 4));
    }
    if (!in) throw std::runtime_error("short file " + path);
    return m;
}

std::vector<int> int_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
    return out;
}

double rss_mb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
}

template <class F>
void parallel(int threads, size_t count, F body) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&] {
            for (size_t i = next++; i < count; i = next++) body(i);
        });
    }
    for (auto& th : pool) th.join();
}

}  // namespace

int main(int argc, char** argv) {
    std::string base_path, query_path, truth_path, ef_arg = "16,32,64,128,256", build_arg = "1,2", search_arg = "1,2";
    int m = 16, efc = 200, k = 10, repeats = 3, seed = 42;
    for (int a = 1; a + 1 < argc; a += 2) {
        std::string key = argv[a], value = argv[a + 1];
        if (key == "--base") base_path = value;
        else if (key == "--queries") query_path = value;
        else if (key == "--truth") truth_path = value;
        else if (key == "--m") m = std::stoi(value);
        else if (key == "--efc") efc = std::stoi(value);
        else if (key == "--k") k = std::stoi(value);
        else if (key == "--ef") ef_arg = value;
        else if (key == "--build-threads") build_arg = value;
        else if (key == "--search-threads") search_arg = value;
        else if (key == "--repeats") repeats = std::stoi(value);
        else if (key == "--seed") seed = std::stoi(value);
        else { std::fprintf(stderr, "unknown option %s\n", key.c_str()); return 2; }
    }
    const Matrix base = read_bin(base_path, false), queries = read_bin(query_path, false), truth = read_bin(truth_path, true);
    const int dims = base.cols;
    hnswlib::InnerProductSpace space(dims);
    using clock = std::chrono::steady_clock;

    std::ostringstream builds, searches;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
    bool first = true;
    for (int threads : int_list(build_arg)) {
        index.reset();
        const double r0 = rss_mb();
        const auto start = clock::now();
        index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, base.rows, m, efc, seed);
        // hnswlib's binding adds the first point alone, then the rest in parallel
        index->addPoint(base.f.data(), 0);
        parallel(threads, static_cast<size_t>(base.rows) - 1, [&](size_t i) {
            index->addPoint(base.f.data() + (i + 1) * dims, i + 1);
        });
        const double secs = std::chrono::duration<double>(clock::now() - start).count();
        builds << (first ? "" : ",") << "{\"threads\":" << threads << ",\"seconds\":" << secs << ",\"rss_delta_mb\":" << rss_mb() - r0 << "}";
        first = false;
        std::fprintf(stderr, "hnswlib native: built with %d thread(s) in %.1fs\n", threads, secs);
    }

    first = true;
    std::vector<hnswlib::labeltype> labels(static_cast<size_t>(queries.rows) * k);
    for (int threads : int_list(search_arg)) {
        for (int ef : int_list(ef_arg)) {
            index->setEf(static_cast<size_t>(ef));
            auto run = [&] {
                parallel(threads, static_cast<size_t>(queries.rows), [&](size_t q) {
                    auto top = index->searchKnn(queries.f.data() + q * dims, static_cast<size_t>(k));
                    for (int r = k - 1; r >= 0 && !top.empty(); r--) {
                        labels[q * k + r] = top.top().second;
                        top.pop();
                    }
                });
            };
            run();  // warm-up
            double best = std::numeric_limits<double>::infinity();
            for (int r = 0; r < repeats; r++) {
                const auto start = clock::now();
                run();
                best = std::min(best, std::chrono::duration<double>(clock::now() - start).count());
            }
            double hits = 0;
            for (int q = 0; q < queries.rows; q++) {
                std::set<int32_t> want(truth.i.begin() + q * truth.cols, truth.i.begin() + q * truth.cols + k);
                for (int r = 0; r < k; r++) hits += want.count(static_cast<int32_t>(labels[q * k + r]));
            }
            const double recall = hits / (static_cast<double>(queries.rows) * k);
            const double qps = queries.rows / best;
            searches << (first ? "" : ",") << "{\"threads\":" << threads << ",\"ef\":" << ef << ",\"qps\":" << qps << ",\"recall\":" << recall << "}";
            first = false;
            std::fprintf(stderr, "hnswlib native: ef=%d threads=%d qps=%.0f recall=%.4f\n", ef, threads, qps, recall);
        }
    }
    std::printf("{\"builds\":[%s],\"searches\":[%s]}\n", builds.str().c_str(), searches.str().c_str());
    return 0;
}
