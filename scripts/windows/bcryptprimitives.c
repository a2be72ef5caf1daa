/*
 * bcryptprimitives.dll for running Go Windows test binaries under Wine 8.0
 * (Debian 12). scripts/windows/setup-wine.sh builds it with mingw-w64 and
 * installs it into the project's Wine prefix (C:\windows\system32).
 *
 * 1. ProcessPrng. Since Go 1.24 the Windows runtime loads
 *    bcryptprimitives.dll at startup and takes all of its random numbers
 *    (map seeds, crypto/rand, ...) from ProcessPrng. Wine 8.0 has no
 *    bcryptprimitives.dll at all, so every Go binary dies at startup with
 *    "fatal error: bcryptprimitives.dll not found". ProcessPrng here fills
 *    the buffer with RtlGenRandom (advapi32!SystemFunction036).
 *
 * 2. Deleting files (os.RemoveAll, t.TempDir cleanup). Go >= 1.25 deletes
 *    with NtSetInformationFile(FileDispositionInformationEx) and falls back
 *    to the older FileDispositionInformation only when the system answers
 *    STATUS_INVALID_INFO_CLASS, STATUS_INVALID_PARAMETER or
 *    STATUS_NOT_SUPPORTED, as Windows releases before 10 1607 do. Wine 8.0
 *    answers STATUS_NOT_IMPLEMENTED instead, which Go reports as
 *    "unlinkat ...: Invalid function." and every test using t.TempDir fails
 *    in its cleanup. Since the Go runtime loads this DLL first thing in
 *    every process, it redirects ntdll's export of NtSetInformationFile
 *    (what GetProcAddress returns, and so what Go calls) to a wrapper that
 *    turns exactly that answer, for exactly that information class, into
 *    STATUS_INVALID_INFO_CLASS: Go then takes its own documented fallback.
 *    Calls made by Wine's own DLLs are not affected (their imports are bound
 *    before this DLL loads). Done only under Wine (ntdll exports
 *    wine_get_version); set MMAPKIT_WINE_NTDLL_COMPAT=0 to turn it off.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under the name SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID RandomBuffer, ULONG RandomBufferLength);

/*
 * BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData)
 * Documented to always return TRUE; it cannot fail on Windows. Here a
 * failure of RtlGenRandom is reported as FALSE, which makes the Go runtime
 * abort loudly instead of running with a buffer that is not random.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    while (cbData > 0) {
        /* RtlGenRandom takes a ULONG length; feed large requests in chunks. */
        ULONG chunk = cbData > 0x40000000 ? 0x40000000 : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}

/* ---- NtSetInformationFile(FileDispositionInformationEx) ---------------- */

#define STATUS_NOT_IMPLEMENTED_ ((LONG)0xC0000002)
#define STATUS_INVALID_INFO_CLASS_ ((LONG)0xC0000003)
#define FILE_DISPOSITION_INFORMATION_EX_CLASS 64

typedef LONG(NTAPI *NtSetInformationFile_fn)(HANDLE file, PVOID io_status,
                                             PVOID info, ULONG length,
                                             ULONG info_class);
static NtSetInformationFile_fn real_NtSetInformationFile;

static LONG NTAPI compat_NtSetInformationFile(HANDLE file, PVOID io_status,
                                              PVOID info, ULONG length,
                                              ULONG info_class)
{
    LONG status = real_NtSetInformationFile(file, io_status, info, length, info_class);
    if (status == STATUS_NOT_IMPLEMENTED_ && info_class == FILE_DISPOSITION_INFORMATION_EX_CLASS)
        status = STATUS_INVALID_INFO_CLASS_;
    return status;
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void redirect_ntdll_export(void)
{
    char env[8];
    DWORD n = GetEnvironmentVariableA("MMAPKIT_WINE_NTDLL_COMPAT", env, sizeof env);
    if (n == 1 && env[0] == '0')
        return;

    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (!ntdll || !GetProcAddress(ntdll, "wine_get_version"))
        return; /* not Wine: nothing to fix */

    BYTE *base = (BYTE *)ntdll;
    IMAGE_DOS_HEADER *dos = (IMAGE_DOS_HEADER *)base;
    IMAGE_NT_HEADERS64 *nt = (IMAGE_NT_HEADERS64 *)(base + dos->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
    if (!dir.VirtualAddress)
        return;
    IMAGE_EXPORT_DIRECTORY *exp = (IMAGE_EXPORT_DIRECTORY *)(base + dir.VirtualAddress);
    DWORD *names = (DWORD *)(base + exp->AddressOfNames);
    WORD *ordinals = (WORD *)(base + exp->AddressOfNameOrdinals);
    DWORD *functions = (DWORD *)(base + exp->AddressOfFunctions);
    DWORD *slot = NULL;
    for (DWORD i = 0; i < exp->NumberOfNames; i++) {
        if (same((const char *)(base + names[i]), "NtSetInformationFile")) {
            slot = &functions[ordinals[i]];
            break;
        }
    }
    if (!slot)
        return;
    real_NtSetInformationFile = (NtSetInformationFile_fn)(base + *slot);

    /*
     * Export entries are 32-bit offsets from the module base, so the new
     * target must lie within 4 GiB above ntdll: put a small jump there.
     */
    BYTE *stub = NULL;
    ULONG_PTR start = ((ULONG_PTR)base + nt->OptionalHeader.SizeOfImage + 0xFFFF) & ~(ULONG_PTR)0xFFFF;
    for (ULONG_PTR a = start; a < (ULONG_PTR)base + 0xFFF00000u && !stub; a += 0x10000)
        stub = VirtualAlloc((void *)a, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!stub)
        return;
    void *target = (void *)compat_NtSetInformationFile;
    stub[0] = 0xFF; /* jmp qword ptr [rip+0] */
    stub[1] = 0x25;
    stub[2] = stub[3] = stub[4] = stub[5] = 0;
    CopyMemory(stub + 6, &target, sizeof target);
    DWORD old;
    if (!VirtualProtect(stub, 4096, PAGE_EXECUTE_READ, &old)) {
        VirtualFree(stub, 0, MEM_RELEASE);
        return;
    }
    FlushInstructionCache(GetCurrentProcess(), stub, 14);

    if (!VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old)) {
        VirtualFree(stub, 0, MEM_RELEASE);
        return;
    }
    *slot = (DWORD)(stub - base);
    VirtualProtect(slot, sizeof *slot, old, &old);
}

BOOL WINAPI DllMain(HINSTANCE hinst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(hinst);
        redirect_ntdll_export();
    }
    return TRUE;
}
