Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  {:ok, sup} = Supervisor.start_link([H.spec(:tmp, restart: :temporary), H.spec(:p)], strategy: :one_for_one)
  Process.exit(H.pids(sup)[:tmp], :kill)
  T.settle()
  T.out("ids", H.pids(sup) |> Map.keys() |> Enum.sort())
end)
T.done()
