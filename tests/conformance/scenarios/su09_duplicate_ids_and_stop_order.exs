Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  Process.flag(:trap_exit, true)  # OTP 25 kills a non-trapping caller (§13.1)
  T.out("dup", Supervisor.start_link([H.spec(:a), H.spec(:a)], strategy: :one_for_one))
  {:ok, sup} = Supervisor.start_link([H.spec(:x), H.spec(:y), H.spec(:z)], strategy: :one_for_one)
  T.out("stop", Supervisor.stop(sup))
end)
T.done()
