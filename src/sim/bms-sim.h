/* bms-sim.h — a simulated master BMS that speaks the NW protocol.
 *
 * A battery model (modules × cells, chemistry OCV curve, capacity spread,
 * coulomb counting, temperatures, passive balancing, protections with delays
 * and recovery) behind a protocol endpoint that answers like a real board:
 * only its address, password-gated writes, persisted parameters, every
 * catalogue field including the extensions, and a bootloader after 0xBD.
 *
 * The core is not thread-safe: one owner drives it (an endpoint loop, or the
 * loopback transport under its lock).
 */
#pragma once

#include <gio/gio.h>
#include "bms-bootloader.h"
#include "bms-snapshot.h"
#include "bms-transport.h"

G_BEGIN_DECLS

typedef enum {
  BMS_CHEMISTRY_LFP = 0,   /* values match field 0xAF */
  BMS_CHEMISTRY_NMC = 1,
  BMS_CHEMISTRY_LTO = 2,
} BmsChemistry;

/* A weak cell planted in the pack: its ohmic resistance is r_factor × the
 * median of the cells not planted (its polarisation pair scales with it),
 * its capacity cap_factor × their median capacity, and it self-discharges
 * leak_ma more than its own spread value. */
typedef struct {
  guint  cell;        /* 1-based over the whole pack */
  double r_factor;    /* 0.1..20, default 2.0 */
  double cap_factor;  /* 0.1..2, default 1.0 */
  double leak_ma;     /* 0..1000 mA, default 0 */
} BmsSimWeakCell;

/* "N[:RFACTOR[:CAPFACTOR[:LEAK_MA]]]", as --weak-cell takes it (the cell is
 * checked against the pack by bms_sim_new). FALSE with an error saying which
 * part is wrong and its range. */
gboolean bms_sim_weak_cell_parse (const char *spec, BmsSimWeakCell *weak, GError **error);

typedef struct {
  guint        modules;            /* 1..16, default 1 */
  guint        cells_per_module;   /* 5..16, default 16 */
  BmsChemistry chemistry;          /* default LFP */
  double       capacity_ah;        /* default 100 */
  double       initial_soc;        /* 0..1, default 0.6 */
  double       current_a;          /* profile when not cycling: + charge, − discharge */
  gboolean     cycle_profile;      /* charge/rest/discharge/rest loop (demo) */
  guint        address;            /* default 1 */
  guint32      seed;               /* spreads and noise; default 1 */
  const char  *state_file;         /* parameters persisted here (optional) */
  guint        flash_size;         /* bootloader image limit, default 256 KiB */
  const BmsSimWeakCell *weak_cells; /* planted weak cells (bms_sim_new copies them) */
  guint        n_weak_cells;
} BmsSimConfig;

void bms_sim_config_init (BmsSimConfig *config); /* fills the defaults */

/* A board that answers with a good checksum but says what no pack can be
 * (docs/robustness.md, "Implausible replies"), in every read-all reply. */
typedef enum {
  BMS_SIM_LIE_NONE,
  BMS_SIM_LIE_SOC,           /* SOC 250 % */
  BMS_SIM_LIE_TEMPERATURE,   /* battery temperature -150 °C */
  BMS_SIM_LIE_CELL_MV,       /* cell 1 at 65535 mV */
  BMS_SIM_LIE_CELL_COUNT,    /* cell count 999 */
  BMS_SIM_LIE_MISSING_CELL,  /* the cell block leaves cell 2 out */
  BMS_SIM_LIE_DUPLICATE_ID,  /* SOC a second time at the end */
  BMS_SIM_N_LIES
} BmsSimLie;

/* "soc", "temperature", "cell-mv", "cell-count", "missing-cell",
 * "duplicate-id" ("none" for BMS_SIM_LIE_NONE); parse returns FALSE for an
 * unknown name. */
const char  *bms_sim_lie_to_string  (BmsSimLie lie);
gboolean     bms_sim_lie_from_string (const char *name, BmsSimLie *lie);

typedef struct {
  double   noise_ber;           /* bit error rate on replies */
  double   corrupt_checksum_p;  /* probability a reply's checksum is wrong */
  double   drop_reply_p;        /* probability a reply is not sent */
  guint    delay_reply_ms;      /* extra delay before each reply */
  gboolean silent;              /* answers nothing */
  gboolean disconnected;        /* the endpoint drops the line (pty/tcp) */
  guint    noise_bytes;         /* random garbage bytes before each reply */
  BmsSimLie lie;                /* nonsense with a good checksum */
  guint    dead_cell;           /* 1-based cell that reads 0 mV (a broken sense
                                 * wire), with the board's cell under-voltage
                                 * warning; 0 none. A fault, not a lie. */
  guint8   refuse_write_id;     /* writes of this field are answered "range" (0: none) */
} BmsSimFaults;

typedef struct _BmsSim BmsSim;

BmsSim      *bms_sim_new            (const BmsSimConfig *config, GError **error);
void         bms_sim_free           (BmsSim *sim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BmsSim, bms_sim_free)

/* Advance the battery model by dt seconds of simulated time. This is the
 * sim's own clock: without an endpoint or a loopback transport nothing else
 * moves it, so a bench can run a week as fast as the CPU allows, e.g.
 *   for (t = 0; t < 7 * 86400; t += 2) { bms_sim_advance (sim, 2);
 *                                          s = bms_sim_snapshot (sim); … } */
void         bms_sim_advance        (BmsSim *sim, double dt_s);
/* Seconds of simulated time since the sim was made. */
double       bms_sim_get_time       (BmsSim *sim);
/* Bytes arriving from the line; reply bytes (if any) are appended to out.
 * Handles NW frames and, after 0xBD, the bootloader dialogue. */
void         bms_sim_receive        (BmsSim *sim, const guint8 *data, gsize len,
                                     GByteArray *out);
/* What a read-all would report now (new). */
BmsSnapshot *bms_sim_snapshot       (BmsSim *sim);
void         bms_sim_set_faults     (BmsSim *sim, const BmsSimFaults *faults);
/* From any thread (e.g. a signal handler's main loop): flip the disconnected
 * or silent fault; the sim's owner applies it at its next advance. */
void         bms_sim_toggle_disconnected (BmsSim *sim);
void         bms_sim_toggle_silent  (BmsSim *sim);
void         bms_sim_set_current    (BmsSim *sim, double current_a);
gboolean     bms_sim_in_bootloader  (BmsSim *sim);
/* As after a write of 0xBD (a board left in its bootloader). */
void         bms_sim_enter_bootloader (BmsSim *sim);
/* Faults of the bootloader (issue 5's matrix); armed at every entry. */
void         bms_sim_set_bootloader_faults (BmsSim *sim, const BmsBootloaderFaults *faults);
/* The air around the pack; settle: the pack has already taken it on. */
void         bms_sim_set_ambient    (BmsSim *sim, double celsius, gboolean settle);
/* Direct access to a parameter, as the board's own panel would (no password,
 * range-checked against the catalogue, persisted like a write). */
gboolean     bms_sim_set_parameter  (BmsSim *sim, guint8 id, gint64 raw, GError **error);
gint64       bms_sim_get_parameter  (BmsSim *sim, guint8 id);
guint        bms_sim_get_address    (BmsSim *sim);
/* The software version the board reports (changes after a firmware update). */
const char  *bms_sim_get_software_version (BmsSim *sim);
/* The last image the bootloader accepted (NULL if none). */
GBytes      *bms_sim_get_flashed_image (BmsSim *sim);

/* What each cell really is (the seed's spread and the weak cells), for
 * judging an estimator against it. */
typedef struct {
  double   resistance_ohm;   /* ohmic: what a current step shows at once */
  double   polarisation_ohm; /* the RC pair: what builds up after the step … */
  double   tau_s;            /* … with this time constant */
  double   capacity_ah;
  double   leak_a;           /* self-discharge */
  gboolean weak;             /* planted by BmsSimConfig.weak_cells */
} BmsSimCellTruth;

guint        bms_sim_get_n_cells    (BmsSim *sim);
/* cell counts from 0 here (the JSON and --weak-cell count from 1). */
void         bms_sim_get_cell_truth (BmsSim *sim, guint cell, BmsSimCellTruth *truth);
/* {"cells":[{"cell":1,"resistance_mohm":…,"capacity_ah":…,"leak_ma":…,
 * "polarisation_mohm":…,"tau_s":…,"weak":false},…]} (new string). */
char        *bms_sim_truth_to_json  (BmsSim *sim);
/* The JSON above into path, atomically (a temporary file renamed). */
gboolean     bms_sim_write_truth    (BmsSim *sim, const char *path, GError **error);

/* Replay, for support cases: from now on every read all is answered with
 * the next read-all reply recorded in path (hex frames one per line, as
 * `packwatch-cli capture` writes them; looping), with the request's command
 * word and terminal number; a read of one field from the reply served last;
 * writes and passwords are refused as on a locked board. FALSE (the sim
 * unchanged) with an error naming the file and line if a line is not a
 * frame or the file holds no read-all reply. */
gboolean     bms_sim_set_replay     (BmsSim *sim, const char *path, GError **error);
/* Recorded replies being served (0: not replaying). */
guint        bms_sim_get_replay_length (BmsSim *sim);

/* Endpoints advance the sim with real time × scale (default 1). */
void         bms_sim_set_time_scale (BmsSim *sim, double scale);
/* Called by an endpoint once it accepts connections, with where to reach it
 * (the pty link path, or "tcp://127.0.0.1:PORT"). */
typedef void (*BmsSimReadyFunc) (const char *where, gpointer user_data);
void         bms_sim_set_ready_func (BmsSim *sim, BmsSimReadyFunc func, gpointer user_data);

/* Endpoints. wire_timing: deliver each byte after 10/baud s, as a UART would.
 * These run until cancelled (then TRUE); FALSE with error if the endpoint
 * cannot be set up or the pty fails. TCP serves one client at a time. */
gboolean     bms_sim_serve_pty      (BmsSim *sim, const char *link_path, guint baud,
                                     gboolean wire_timing, GCancellable *cancellable,
                                     GError **error);
gboolean     bms_sim_serve_tcp      (BmsSim *sim, guint16 port, guint baud,
                                     gboolean wire_timing, GCancellable *cancellable,
                                     GError **error);

/* In-process: a transport whose other end is this simulator (the demo).
 * The sim's clock follows real time (scaled by time_scale). */
BmsTransport *bms_loopback_transport_new (BmsSim *sim, gboolean wire_timing,
                                          double time_scale);
/* Registers "sim://" (16 cells LFP) and "sim://master" (16 × 16) with
 * bms_transport_new_for_uri. */
void         bms_sim_register_uri_scheme (void);

G_END_DECLS
