Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  bad = %{id: :bad, start: {GenServer, :start_link, [W, :never_used]}}
  bad = %{bad | start: {Kernel, :apply, [fn -> {:error, :nope} end, []]}}
  # OTP 25 kills a non-trapping caller here; OTP 26+ (tether) returns the error.
  # Trapping, both return it.
  Process.flag(:trap_exit, true)
  T.out("result", Supervisor.start_link([H.spec(:a), bad, H.spec(:c)], strategy: :one_for_one))
end)
T.done()
